from django import forms


class MfaCodeForm(forms.Form):
    token = forms.CharField(
        label="Code from your authenticator app", min_length=6, max_length=12, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "autofocus": True, "pattern": "[0-9 ]*"}),
        error_messages={"required": "enter the 6-digit code", "min_length": "the code has 6 digits"})
