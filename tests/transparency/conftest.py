import pytest


@pytest.fixture
def public_world(detective, commander, officer):
    from tests.public_world import build_public_world

    return build_public_world(detective, commander, officer)
