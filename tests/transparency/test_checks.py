from transparency.checks import check_public_notice_url


def test_the_force_wide_address_must_be_a_web_address(settings):
    settings.PUBLIC_NOTICE_URL = "javascript:alert(1)"
    assert [e.id for e in check_public_notice_url(None)] == ["transparency.E001"]
    settings.PUBLIC_NOTICE_URL = "https://police.example/lfr"
    assert check_public_notice_url(None) == []
    settings.PUBLIC_NOTICE_URL = ""
    assert check_public_notice_url(None) == []
