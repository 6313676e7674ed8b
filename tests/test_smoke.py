import pytest


@pytest.mark.django_db
def test_pages_render(client, helpdesk, rich_department, site_settings):
    assert client.get(helpdesk.url).status_code == 200
    response = client.get(rich_department.url)
    assert response.status_code == 200, response.content[:2000]
