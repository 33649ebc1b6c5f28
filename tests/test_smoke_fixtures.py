from apikeys import crypto


def test_factory_key_is_well_formed_and_matches_digest(make_key, settings):
    api_key = make_key()
    assert crypto.is_well_formed(api_key.key, settings.API_KEY_PREFIX)
    assert api_key.digest == crypto.digest(api_key.key, settings.API_KEY_SECRET)
