"""Vocabularies of the case exchange format (docs/exchange-format.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from jiancha.accounts.choices import BusinessLine

__all__ = ["BusinessLine", "Procedure", "EventType", "CaseStatus", "GrantReason"]


class Procedure(models.TextChoices):
    ARREST_REVIEW = "arrest_review", _("arrest review")
    PROSECUTION_REVIEW = "prosecution_review", _("prosecution review")
    CIVIL_SUPERVISION = "civil_supervision", _("civil supervision")
    ADMINISTRATIVE_SUPERVISION = "administrative_supervision", _("administrative supervision")
    PUBLIC_INTEREST = "public_interest", _("public interest litigation")
    CRIMINAL_COMPLAINT = "criminal_complaint", _("criminal complaint")
    OTHER = "other", _("other")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class GrantReason(models.TextChoices):
    """Why a user may open a case outside its unit scope (``CaseGrant``)."""

    SUPERVISOR = "supervisor", _("people's supervisor assignment")
    REVIEW = "review", _("case review assignment")


class EventType(models.TextChoices):
    RECEIVED = "received", _("received")
    RIGHTS_NOTIFIED = "rights_notified", _("rights notified")
    ARREST_DECIDED = "arrest_decided", _("arrest decided")
    ARREST_RECONSIDERATION = "arrest_reconsideration", _("arrest reconsideration")
    DETENTION_EXTENDED = "detention_extended", _("detention extended")
    RETURNED_FOR_INVESTIGATION = "returned_for_investigation", _("returned for supplementary investigation")
    RESUBMITTED = "resubmitted", _("resubmitted")
    REVIEW_EXTENDED = "review_extended", _("review period extended")
    PLEA_AGREEMENT_SIGNED = "plea_agreement_signed", _("plea agreement signed")
    SENTENCING_RECOMMENDED = "sentencing_recommended", _("sentencing recommended")
    PROSECUTION_DECIDED = "prosecution_decided", _("prosecution decided")
    NON_PROSECUTION_RECONSIDERATION = "non_prosecution_reconsideration", _("non-prosecution reconsideration")
    WITHDRAWN = "withdrawn", _("prosecution withdrawn")
    JUDGMENT = "judgment", _("judgment")
    APPEAL = "appeal", _("appeal")
    PROTEST = "protest", _("protest")
    PROTEST_RESULT = "protest_result", _("protest result")
    COMPLAINT = "complaint", _("complaint")
    STATE_COMPENSATION = "state_compensation", _("state compensation")
    RECOMMENDATION_ISSUED = "recommendation_issued", _("procuratorial recommendation issued")
    REPLY_RECEIVED = "reply_received", _("reply received")
    PUBLIC_NOTICE_STARTED = "public_notice_started", _("public notice started")
    PUBLIC_NOTICE_ENDED = "public_notice_ended", _("public notice ended")
    SUIT_FILED = "suit_filed", _("suit filed")
    TERMINATED = "terminated", _("terminated")
