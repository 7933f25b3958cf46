from django import forms
from django.contrib.auth import get_user_model


class MfaCodeForm(forms.Form):
    token = forms.CharField(
        label="Code from your authenticator app", min_length=6, max_length=12, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "autofocus": True, "pattern": "[0-9 ]*"}),
        error_messages={"required": "enter the 6-digit code", "min_length": "the code has 6 digits"})


class UserPickForm(forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.all(),
                                  error_messages={"required": "choose a user",
                                                  "invalid_choice": "there is no such user"})
