"""Forms of the review pages; they parse input, the services apply the rules."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiancha.accounts.access import unit_visible_to
from jiancha.accounts.choices import BusinessLine
from jiancha.accounts.models import Unit, User
from jiancha.reviews.choices import (
    DimensionRating,
    ObjectionDecision,
    PlanKind,
    ReviewGrade,
)
from jiancha.reviews.criteria import CRITERIA
from jiancha.reviews.dimensions import DIMENSIONS
from jiancha.reviews.models import Review


class PlanForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    unit = forms.CharField(label=_("Organising unit (org code)"), max_length=12)
    kind = forms.ChoiceField(label=_("Kind"), choices=PlanKind.choices)
    period_from = forms.DateField(
        label=_("Cases closed from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    period_to = forms.DateField(
        label=_("Cases closed to"), widget=forms.DateInput(attrs={"type": "date"})
    )
    percentage = forms.DecimalField(
        label=_("Percentage per stratum"),
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
        help_text=_(
            "Routine sampling and thematic review: the share of each unit × business line drawn."
        ),
    )
    business_line = forms.ChoiceField(
        label=_("Business line"),
        choices=[("", "—"), *BusinessLine.choices],
        required=False,
    )
    charge = forms.CharField(label=_("Charge"), max_length=60, required=False)
    criteria = forms.MultipleChoiceField(
        label=_("Key-case criteria"),
        choices=[(criterion.id, criterion.label) for criterion in CRITERIA],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    seed = forms.IntegerField(
        label=_("Seed"),
        required=False,
        min_value=0,
        help_text=_("Leave empty for a random seed; it is kept with the plan."),
    )
    cross_review = forms.BooleanField(
        label=_("Cross-review between units"), required=False
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if not self.is_bound and getattr(user, "unit", None) is not None:
            self.initial.setdefault("unit", user.unit.code)

    def clean_unit(self) -> Unit:
        code = self.cleaned_data["unit"].strip()
        unit = unit_visible_to(self.user).filter(code=code).first()
        if unit is None:
            raise forms.ValidationError(_("No unit with this org code in your scope."))
        return unit


class AssignForm(forms.Form):
    reviewers = forms.ModelMultipleChoiceField(
        label=_("Reviewers"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, reviewers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reviewers"]
        field.queryset = reviewers
        field.label_from_instance = lambda user: (
            f"{user} · {user.unit.name} · {user.get_role_display()}"
        )  # type: ignore[attr-defined]


class ReassignForm(forms.Form):
    """Give one review not yet submitted to another reviewer (改派)."""

    review = forms.ModelChoiceField(label=_("Review"), queryset=Review.objects.none())
    reviewer = forms.ModelChoiceField(
        label=_("New reviewer"), queryset=User.objects.none()
    )

    def __init__(self, *args: Any, reviews: Any, reviewers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["review"].queryset = reviews
        self.fields["reviewer"].queryset = reviewers


class ReviewForm(forms.Form):
    """One rating and comment per dimension, the findings and the grade."""

    findings = forms.CharField(
        label=pgettext_lazy("review", "Findings"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=20000,
    )
    grade = forms.ChoiceField(
        label=_("Grade"), choices=ReviewGrade.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for dimension in DIMENSIONS:
            self.fields[f"rating_{dimension.id}"] = forms.ChoiceField(
                label=dimension.label,
                choices=DimensionRating.choices,
                widget=forms.RadioSelect,
            )
            self.fields[f"comment_{dimension.id}"] = forms.CharField(
                label=_("Comment"),
                required=False,
                max_length=2000,
                widget=forms.TextInput(attrs={"class": "review-comment"}),
            )

    def dimension_rows(self) -> list[tuple[Any, Any, Any]]:
        return [
            (dimension, self[f"rating_{dimension.id}"], self[f"comment_{dimension.id}"])
            for dimension in DIMENSIONS
        ]

    def scores(self) -> dict[str, dict[str, str]]:
        data = self.cleaned_data
        return {
            dimension.id: {
                "rating": data.get(f"rating_{dimension.id}", ""),
                "comment": data.get(f"comment_{dimension.id}", ""),
            }
            for dimension in DIMENSIONS
        }


class ObjectionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reasons for the objection"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10000,
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=ObjectionDecision.choices, widget=forms.RadioSelect
    )
    grade = forms.ChoiceField(
        label=_("Decided grade"),
        choices=[("", "—"), *ReviewGrade.choices],
        required=False,
    )
    reason = forms.CharField(
        label=_("Reasons for the decision"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10000,
    )
