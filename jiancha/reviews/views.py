"""Review pages: plans (list, create, detail with draw / assign / close), the reviewer's
queue, the review form with objection and committee decision, a case's review history (a
fragment the case page loads with ``hx-get``) and the reports (printable page and Excel).

Every page goes through :mod:`jiancha.reviews.access` (and ``access_case`` for case pages);
writes go through :mod:`jiancha.reviews.services`; templates get ready-made context.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from jiancha.cases.access import access_case
from jiancha.cases.models import Case
from jiancha.core.audit import audit_record
from jiancha.core.errors import BusinessError
from jiancha.reviews.access import (
    access_plan,
    access_review,
    is_handling_procurator,
    may_decide,
    may_manage_plans,
)
from jiancha.reviews.choices import (
    ObjectionDecision,
    PlanKind,
    PlanStatus,
    ReviewStatus,
)
from jiancha.reviews.criteria import criterion_for
from jiancha.reviews.exports import XLSX_CONTENT_TYPE, report_rows, reviews_workbook
from jiancha.reviews.forms import (
    AssignForm,
    DecisionForm,
    ObjectionForm,
    PlanForm,
    ReassignForm,
    ReviewForm,
)
from jiancha.reviews.models import Review, ReviewPlan
from jiancha.reviews.selectors import (
    QUEUE_SECTIONS,
    case_reviews,
    case_summary,
    eligible_reviewers,
    grade_counts,
    plan_case_rows,
    plan_list,
    plan_summary,
    review_queue,
)
from jiancha.reviews.services import (
    objection_decide,
    objection_file,
    plan_cancel,
    plan_close,
    plan_create,
    plan_draw,
    review_assign,
    review_reassign,
    review_submit,
)

PAGE_SIZE = 50


def _htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str = "",
    status: int = 200,
) -> HttpResponse:
    """The page, or only its ``partial`` for an HTMX request (STYLE.md §11)."""
    name = f"{template}#{partial}" if partial and _htmx(request) else template
    response = render(request, name, {**context, "htmx": _htmx(request)}, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _case_visible(user: Any, case_pk: int) -> bool:
    return Case.objects.visible_to(user).filter(pk=case_pk).exists()


# --- queue ---------------------------------------------------------------------------------


class IndexView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(reverse("reviews:queue"))


class QueueView(LoginRequiredMixin, View):
    """The reviewer's queue: reviews to write, written ones, the user's own cases under
    review (to object) and the objections it may decide."""

    def get(self, request: HttpRequest) -> HttpResponse:
        queue = review_queue(
            user=request.user,
            pages={name: request.GET.get(f"{name}_page") for name in QUEUE_SECTIONS},
        )
        context = {
            "queue": queue,
            "pagers": {
                name: _pager(request, name, page) for name, page in queue.pages.items()
            },
            "may_manage": may_manage_plans(request.user),
        }
        return _render(request, "reviews/queue.html", context)


def _pager(request: HttpRequest, name: str, page: Any) -> dict[str, Any]:
    """A queue section's page and the links to its neighbours: the other sections keep
    their pages, and the link leads back to the section."""

    def link(number: int) -> str:
        query = request.GET.copy()
        query[f"{name}_page"] = str(number)
        return f"?{query.urlencode()}#{name.replace('_', '-')}-title"

    return {
        "page": page,
        "previous_url": link(page.previous_page_number())
        if page.has_previous()
        else "",
        "next_url": link(page.next_page_number()) if page.has_next() else "",
    }


# --- plans ---------------------------------------------------------------------------------


class PlanListView(LoginRequiredMixin, View):
    """Plans of the units the user may see, newest first."""

    def get(self, request: HttpRequest) -> HttpResponse:
        page = Paginator(plan_list(user=request.user), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        context = {
            "page": page,
            "plans": list(page.object_list),
            "may_create": may_manage_plans(request.user),
        }
        return _render(request, "reviews/plan_list.html", context, partial="results")


class PlanCreateView(LoginRequiredMixin, View):
    """Create a plan (routine, key-case or thematic) for a unit in the user's subtree."""

    def _check(self, request: HttpRequest) -> None:
        if not may_manage_plans(request.user):
            raise Http404

    def get(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        return _render(
            request, "reviews/plan_form.html", {"form": PlanForm(user=request.user)}
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        form = PlanForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan = plan_create(
                    actor=request.user,  # type: ignore[arg-type]
                    unit=data["unit"],
                    name=data["name"],
                    kind=data["kind"],
                    period_from=data["period_from"],
                    period_to=data["period_to"],
                    percentage=data["percentage"],
                    business_line=data["business_line"],
                    charge=data["charge"],
                    criteria=data["criteria"],
                    seed=data["seed"],
                    cross_review=data["cross_review"],
                )
            except BusinessError as error:
                form.add_error(None, error.message)
            else:
                return HttpResponseRedirect(
                    reverse("reviews:plan_detail", args=[plan.pk])
                )
        return _render(request, "reviews/plan_form.html", {"form": form}, status=400)


def _plan_context(
    request: HttpRequest, plan: ReviewPlan, *, assign_form: AssignForm | None = None
) -> dict[str, Any]:
    may_manage = (
        ReviewPlan.objects.visible_to(request.user, "manage")
        .filter(pk=plan.pk)
        .exists()
    )
    reviewers = eligible_reviewers(plan)
    return {
        "plan": plan,
        "summary": plan_summary(plan),
        "rows": plan_case_rows(plan),
        "criteria": [
            str(criterion.label)
            for criterion in map(criterion_for, plan.criteria)
            if criterion
        ],
        "may_manage": may_manage,
        "may_draw": may_manage and plan.status == PlanStatus.DRAFT,
        "may_assign": may_manage and plan.status == PlanStatus.DRAWN,
        "may_close": may_manage and plan.status == PlanStatus.DRAWN,
        "may_cancel": may_manage
        and plan.status in {PlanStatus.DRAFT, PlanStatus.DRAWN},
        "assign_form": assign_form or AssignForm(reviewers=reviewers),
        # Read only when the page shows the reassign column.
        "reassign_reviewers": (
            list(reviewers) if may_manage and plan.status == PlanStatus.DRAWN else []
        ),
        "is_routine": plan.kind == PlanKind.ROUTINE,
    }


class PlanDetailView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        plan = access_plan(request.user, pk)
        return _render(
            request,
            "reviews/plan_detail.html",
            _plan_context(request, plan),
            partial="body",
        )


class _PlanActionView(LoginRequiredMixin, View):
    """A POST on a plan by its organiser; answers with the plan body (HTMX) or a redirect."""

    def act(self, request: HttpRequest, plan: ReviewPlan) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        plan = access_plan(request.user, pk, action="manage")
        try:
            message = self.act(request, plan)
        except BusinessError as error:
            messages.error(request, error.message)
            status = 400
        else:
            messages.success(request, message)
            status = 200
        plan.refresh_from_db()
        if _htmx(request):
            return _render(
                request,
                "reviews/plan_detail.html",
                _plan_context(request, plan),
                partial="body",
                status=status,
            )
        return HttpResponseRedirect(reverse("reviews:plan_detail", args=[plan.pk]))


class PlanDrawView(_PlanActionView):
    def act(self, request: HttpRequest, plan: ReviewPlan) -> str:
        drawn = plan_draw(plan=plan, actor=request.user)  # type: ignore[arg-type]
        return ngettext(
            "%(count)s case drawn.", "%(count)s cases drawn.", len(drawn)
        ) % {"count": len(drawn)}


class PlanAssignView(_PlanActionView):
    def act(self, request: HttpRequest, plan: ReviewPlan) -> str:
        form = AssignForm(request.POST, reviewers=eligible_reviewers(plan))
        if not form.is_valid():
            raise BusinessError(_("Choose at least one reviewer."))
        reviews = review_assign(
            plan=plan,
            actor=request.user,  # type: ignore[arg-type]
            reviewers=list(form.cleaned_data["reviewers"]),
        )
        return ngettext(
            "%(count)s review assigned.", "%(count)s reviews assigned.", len(reviews)
        ) % {"count": len(reviews)}


class PlanReassignView(_PlanActionView):
    """改派: one review not yet submitted goes to another reviewer."""

    def act(self, request: HttpRequest, plan: ReviewPlan) -> str:
        form = ReassignForm(
            request.POST,
            reviews=Review.objects.filter(plan=plan, status=ReviewStatus.ASSIGNED),
            reviewers=eligible_reviewers(plan),
        )
        if not form.is_valid():
            raise BusinessError(
                _("Choose a review not yet submitted and a reviewer of this plan.")
            )
        review = review_reassign(
            review=form.cleaned_data["review"],
            actor=request.user,  # type: ignore[arg-type]
            reviewer=form.cleaned_data["reviewer"],
        )
        return _("Case %(case)s is now reviewed by %(name)s.") % {
            "case": review.case.case_id,
            "name": str(review.reviewer),
        }


class PlanCancelView(_PlanActionView):
    """撤销: the organiser cancels a plan not yet closed, with a reason."""

    def act(self, request: HttpRequest, plan: ReviewPlan) -> str:
        plan_cancel(
            plan=plan,
            actor=request.user,  # type: ignore[arg-type]
            reason=request.POST.get("reason", ""),
        )
        return _("The plan is cancelled.")


class PlanCloseView(_PlanActionView):
    def act(self, request: HttpRequest, plan: ReviewPlan) -> str:
        plan_close(plan=plan, actor=request.user)  # type: ignore[arg-type]
        return _("The plan is closed.")


# --- reports -------------------------------------------------------------------------------


def _summary_rows(reviews: list[Review]) -> list[tuple[str, int]]:
    return [(label, count) for _grade, label, count in grade_counts(reviews)]


def _xlsx(file: Any, name: str) -> FileResponse:
    response = FileResponse(
        file, as_attachment=True, filename=name, content_type=XLSX_CONTENT_TYPE
    )
    response["Cache-Control"] = "no-store"
    return response


def _plan_reviews(request: HttpRequest, plan: ReviewPlan) -> list[Review]:
    return list(
        Review.objects.visible_to(request.user)
        .filter(plan=plan)
        .select_related("plan", "case", "case_unit", "reviewer", "objection")
        .order_by("case__unit__path", "case__case_id")
    )


class PlanReportView(LoginRequiredMixin, View):
    """The plan's report as a printable page."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        plan = access_plan(request.user, pk)
        reviews = _plan_reviews(request, plan)
        context = {
            "plan": plan,
            "summary": plan_summary(plan),
            "rows": report_rows(reviews),
            "grades": grade_counts(reviews),
            "generated_at": timezone.now(),
            "excel_url": reverse("reviews:plan_report_xlsx", args=[plan.pk]),
        }
        return render(request, "reviews/plan_report.html", context)


class PlanReportExcelView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        plan = access_plan(request.user, pk)
        reviews = _plan_reviews(request, plan)
        about = [
            (_("Plan"), plan.name),
            (_("Kind"), str(plan.get_kind_display())),
            (_("Organising unit"), f"{plan.unit.name} ({plan.unit.code})"),
            (
                _("Cases closed"),
                f"{plan.period_from:%Y-%m-%d} – {plan.period_to:%Y-%m-%d}",
            ),
            (_("Seed"), str(plan.seed)),
            (_("Candidates"), plan.candidate_count),
            (_("Reviews"), len(reviews)),
            (_("Exported by"), str(request.user)),
        ]
        file = reviews_workbook(
            report_rows(reviews),
            title=_("Review plan report"),
            about=about,
            summary=_summary_rows(reviews),
        )
        audit_record(
            actor=request.user,
            verb="reviews.plan.report_export",
            target=plan,
            request=request,
            details={"reviews": len(reviews)},
        )
        return _xlsx(file, f"review-plan-{plan.pk}.xlsx")


class CaseReportView(LoginRequiredMixin, View):
    """The reviews of one case as a printable page."""

    def get(self, request: HttpRequest, case_pk: int) -> HttpResponse:
        case = access_case(request.user, case_pk)
        reviews = case_reviews(user=request.user, case=case)
        context = {
            "case": case,
            "rows": report_rows(reviews),
            "generated_at": timezone.now(),
            "excel_url": reverse("reviews:case_report_xlsx", args=[case.pk]),
        }
        return render(request, "reviews/case_report.html", context)


class CaseReportExcelView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, case_pk: int) -> HttpResponse:
        case = access_case(request.user, case_pk)
        reviews = case_reviews(user=request.user, case=case)
        about = [
            (_("Case number"), case.case_id),
            (_("Unit"), f"{case.unit.name} ({case.unit.code})"),
            (_("Reviews"), len(reviews)),
            (_("Exported by"), str(request.user)),
        ]
        file = reviews_workbook(
            report_rows(reviews),
            title=_("Case review report"),
            about=about,
            summary=_summary_rows(reviews),
        )
        audit_record(
            actor=request.user,
            verb="reviews.case.report_export",
            target=case,
            request=request,
            details={"reviews": len(reviews)},
        )
        return _xlsx(file, f"case-reviews-{case.pk}.xlsx")


# --- the review form -----------------------------------------------------------------------


def _review_context(
    request: HttpRequest,
    review: Review,
    *,
    form: ReviewForm | None = None,
    objection_form: ObjectionForm | None = None,
    decision_form: DecisionForm | None = None,
    error: str = "",
) -> dict[str, Any]:
    user = request.user
    objection = review.objection if hasattr(review, "objection") else None
    plan_open = review.plan.status != PlanStatus.CLOSED
    may_submit = (
        review.reviewer_id == user.pk
        and review.status == ReviewStatus.ASSIGNED
        and plan_open
    )
    may_object = (
        is_handling_procurator(user, review)
        and review.status == ReviewStatus.SUBMITTED
        and objection is None
        and plan_open
    )
    deciding = may_decide(user, review) and review.status == ReviewStatus.OBJECTED
    return {
        "review": review,
        "row": report_rows([review])[0],
        "objection": objection,
        "summary": case_summary(user=user, case=review.case),
        "case_url": reverse("cases:case_detail", args=[review.case_id])
        if _case_visible(user, review.case_id)
        else "",
        "history_url": reverse("reviews:case_history", args=[review.case_id]),
        "may_submit": may_submit,
        "form": form or (ReviewForm() if may_submit else None),
        "may_object": may_object,
        "objection_form": objection_form or (ObjectionForm() if may_object else None),
        "may_decide": deciding,
        "decision_form": decision_form or (DecisionForm() if deciding else None),
        "error": error,
        "upheld": ObjectionDecision.UPHELD,
    }


class ReviewDetailView(LoginRequiredMixin, View):
    """One review: the case summary (names masked for supervisors), the machine findings,
    the form for the reviewer, the objection form for the handling procurator and the
    decision form for the committee."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        review = access_review(request.user, pk)
        audit_record(
            actor=request.user,
            verb="reviews.review.view",
            target=review,
            request=request,
        )
        return _render(
            request, "reviews/review_detail.html", _review_context(request, review)
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        review = access_review(request.user, pk, action="submit")
        form = ReviewForm(request.POST)
        if form.is_valid():
            try:
                review_submit(
                    review=review,
                    actor=request.user,  # type: ignore[arg-type]
                    scores=form.scores(),
                    findings=form.cleaned_data["findings"],
                    grade=form.cleaned_data["grade"],
                )
            except BusinessError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The review is submitted."))
                return HttpResponseRedirect(
                    reverse("reviews:review_detail", args=[review.pk])
                )
        return _render(
            request,
            "reviews/review_detail.html",
            _review_context(request, review, form=form),
            status=400,
        )


class ObjectionView(LoginRequiredMixin, View):
    """The handling procurator files an objection (异议)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        review = access_review(request.user, pk, action="object")
        form = ObjectionForm(request.POST)
        if form.is_valid():
            try:
                objection_file(
                    review=review,
                    actor=request.user,  # type: ignore[arg-type]
                    reason=form.cleaned_data["reason"],
                )
            except BusinessError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request, _("The objection is filed; the committee will decide.")
                )
                return HttpResponseRedirect(
                    reverse("reviews:review_detail", args=[review.pk])
                )
        return _render(
            request,
            "reviews/review_detail.html",
            _review_context(request, review, objection_form=form),
            status=400,
        )


class DecisionView(LoginRequiredMixin, View):
    """The committee decides an objection: the grade is upheld or changed."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        review = access_review(request.user, pk, action="decide")
        form = DecisionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                objection_decide(
                    review=review,
                    actor=request.user,  # type: ignore[arg-type]
                    decision=data["decision"],
                    grade=data["grade"],
                    reason=data["reason"],
                )
            except BusinessError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The decision is recorded."))
                return HttpResponseRedirect(
                    reverse("reviews:review_detail", args=[review.pk])
                )
        return _render(
            request,
            "reviews/review_detail.html",
            _review_context(request, review, decision_form=form),
            status=400,
        )


# --- the case's review history -------------------------------------------------------------


class CaseHistoryView(LoginRequiredMixin, View):
    """The reviews of a case the user may see: a fragment for the case page (``hx-get``),
    or a page of its own without JavaScript."""

    def get(self, request: HttpRequest, case_pk: int) -> HttpResponse:
        case = access_case(request.user, case_pk)
        reviews = case_reviews(user=request.user, case=case)
        context = {
            "case": case,
            "reviews": reviews,
            "case_url": reverse("cases:case_detail", args=[case.pk]),
            "report_url": reverse("reviews:case_report", args=[case.pk]),
            "excel_url": reverse("reviews:case_report_xlsx", args=[case.pk]),
        }
        return _render(request, "reviews/case_history.html", context, partial="history")
