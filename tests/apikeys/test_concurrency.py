"""K7 under real concurrency: parallel creates at 9 keys end with exactly 10 (PostgreSQL).

Each thread has its own database connection and transaction, as separate workers would.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from apikeys.models import APIKey
from apikeys.services import api_key_create, api_key_revoke
from tests.factories import APIKeyFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL (set DATABASE_URL): real row locks between concurrent transactions"
        )


def run_in_parallel(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except Exception as error:  # the outcome is what we assert on
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


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
