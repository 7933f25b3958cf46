from django import forms
from django.contrib.auth import get_user_model

from accounts.roles import Role

CONFIRM_REQUIRED = "tick the box to confirm: nothing was changed"


class MfaCodeForm(forms.Form):
    token = forms.CharField(
        label="Code from your authenticator app", min_length=6, max_length=12, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "autofocus": True, "pattern": "[0-9 ]*"}),
        error_messages={"required": "enter the 6-digit code", "min_length": "the code has 6 digits"})


def _confirm(label: str) -> forms.BooleanField:
    """Each change to an account is confirmed: the server refuses a form sent without the box ticked."""
    return forms.BooleanField(label=label, required=True, error_messages={"required": CONFIRM_REQUIRED})


def _roles(label: str = "Roles") -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(label=label, choices=Role.choices, required=False,
                                     widget=forms.CheckboxSelectMultiple,
                                     error_messages={"invalid_choice": "there is no role %(value)s"})


class ConfirmForm(forms.Form):
    confirm = _confirm("I confirm this change")


class UserPickForm(ConfirmForm):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.all(),
                                  error_messages={"required": "choose a user",
                                                  "invalid_choice": "there is no such user"})


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150, error_messages={"required": "enter a username"})
    full_name = forms.CharField(max_length=300, required=False, label="Full name")
    email = forms.EmailField(required=False, error_messages={"invalid": "enter a valid email address"})
    password = forms.CharField(label="First password", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text="at least 12 characters; give it to the user in person",
                               error_messages={"required": "enter a first password"})
    roles = _roles()
    confirm = _confirm("I confirm this account and its roles")


class UserRolesForm(forms.Form):
    roles = _roles()
    confirm = _confirm("I confirm these roles")
