"""The case page loads the quality findings and the review history of the case as fragments."""

import pytest
from django.urls import reverse

from jiancha.cases.tests.factories import CaseFactory
from jiancha.core.testing import BASIC, SIBLING

pytestmark = pytest.mark.django_db


def test_case_page_links_findings_and_review_history(client_for):
    case = CaseFactory(unit_code=BASIC)
    client = client_for("case_manager", BASIC)
    page = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    for url in (reverse("quality:case_findings", args=[case.pk]), reverse("reviews:case_history", args=[case.pk])):
        assert f'hx-get="{url}"' in page
        fragment = client.get(url, HTTP_HX_REQUEST="true")
        assert fragment.status_code == 200
        assert "<html" not in fragment.content.decode()


@pytest.mark.parametrize("name", ["quality:case_findings", "reviews:case_history"])
def test_fragments_of_a_case_outside_the_scope_are_404(client_for, name):
    case = CaseFactory(unit_code=BASIC)
    client = client_for("procurator", SIBLING)
    assert client.get(reverse(name, args=[case.pk]), HTTP_HX_REQUEST="true").status_code == 404
