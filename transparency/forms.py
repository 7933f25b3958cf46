"""The public notice form: it parses input only; the rules (plain text, lengths, http(s) only) are the service's."""

from __future__ import annotations

from django import forms

from transparency.models import AREA_MAX_LENGTH, TEXT_MAX_LENGTH, URL_MAX_LENGTH


class PublicNoticeForm(forms.Form):
    area = forms.CharField(max_length=AREA_MAX_LENGTH, label="Area",
                           help_text="Where, in words people know (\u201cHigh Street between the station and the "
                                     "market\u201d); not the exact camera positions.")
    purpose = forms.CharField(max_length=TEXT_MAX_LENGTH, label="Purpose", widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="Why, in plain words (\u201cto find people wanted by the courts for violent "
                                        "crime\u201d).")
    more_info = forms.CharField(max_length=TEXT_MAX_LENGTH, required=False, label="How to find out more",
                                widget=forms.Textarea(attrs={"rows": 2}),
                                help_text="A contact: a telephone number, an email address, a police station. "
                                          "Left empty: the force's own contact.")
    more_info_url = forms.CharField(max_length=URL_MAX_LENGTH, required=False, label="Web page (optional)",
                                    help_text="A full http:// or https:// address.")
