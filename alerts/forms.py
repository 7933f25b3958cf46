"""The test walk form on the live page: shape only; alerts.services.test_walk_record decides."""

from __future__ import annotations

from django import forms

from alerts.selectors import deployment_test_subjects


class TestWalkForm(forms.Form):
    __test__ = False  # not a pytest test class

    camera = forms.TypedChoiceField(coerce=int, label="Camera")
    subject = forms.TypedChoiceField(coerce=int, label="Test subject")
    walked_at = forms.DateTimeField(required=False, label="Walked past at (blank: now)",
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def __init__(self, *args, deployment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["camera"].choices = [(c.pk, c.name) for c in deployment.cameras.all()]
        self.fields["subject"].choices = [(e.subject_id, f"{e.name} ({e.subject_reference})")
                                          for e in deployment_test_subjects(deployment=deployment)]
