"""K7 under real concurrency: parallel creates at 9 keys end with exactly 10 (PostgreSQL).

Each thread has its own database connection and transaction, as separate workers would.
"""

import pytest
from django.core.exceptions import ValidationError

from apikeys.models import APIKey
from apikeys.services import api_key_create, api_key_revoke
from tests.concurrency import run_in_parallel, skip_unless_postgres
from tests.factories import APIKeyFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _needs_postgres():
    skip_unless_postgres()


@pytest.mark.parametrize("parallel", [2, 8])
def test_parallel_creates_at_nine_keys_yield_exactly_ten(parallel):
    owner = UserFactory()
    APIKeyFactory.create_batch(9, owner=owner)
    results = run_in_parallel(
        parallel, lambda i: api_key_create(owner=owner, name=f"racer {i}", scopes=["geo:read"])
    )
    created = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(created) == 1
    assert len(refused) == parallel - 1
    assert APIKey.objects.filter(owner=owner).active().count() == 10


def test_parallel_creates_from_empty_stop_at_ten():
    owner = UserFactory()
    results = run_in_parallel(
        14, lambda i: api_key_create(owner=owner, name=f"k{i}", scopes=["geo:read"])
    )
    assert sum(not isinstance(r, Exception) for r in results) == 10
    assert all(isinstance(r, ValidationError) for r in results if isinstance(r, Exception))
    assert APIKey.objects.filter(owner=owner).count() == 10


def test_concurrent_revocations_record_one_revoker():
    owner = UserFactory()
    staff = UserFactory()
    api_key = APIKeyFactory(owner=owner)
    revokers = [owner, staff]
    results = run_in_parallel(
        2,
        lambda i: api_key_revoke(api_key=APIKey.objects.get(pk=api_key.pk), revoked_by=revokers[i]),
    )
    assert sorted(results) == [False, True]
    row = APIKey.objects.get(pk=api_key.pk)
    assert row.revoked_by == revokers[results.index(True)]
