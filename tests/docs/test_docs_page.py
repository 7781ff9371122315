"""``GET /docs`` and ``GET /`` without a browser: the page, its assets and its offline policy."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from popcheck.api.docs import SWAGGER_UI_ASSETS, SWAGGER_UI_DIR


def test_root_redirects_to_docs(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/docs"


def test_docs_with_slash_redirects(client: FlaskClient) -> None:
    response = client.get("/docs/")
    assert response.status_code in (301, 308)
    assert response.headers["Location"] == "/docs"


def test_docs_page_points_swagger_ui_at_the_served_spec(client: FlaskClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'data-spec-url="/openapi.yaml"' in html
    assert client.get("/openapi.yaml").status_code == 200


def test_docs_page_loads_only_same_origin_files(client: FlaskClient) -> None:
    html = client.get("/docs").get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls
    for url in urls:
        assert url.startswith("/"), f"{url} is not served by the app (the page must work offline)"
        assert not url.startswith("//"), url
        with client.get(url) as response:  # closes the file send_from_directory opened
            assert response.status_code == 200, url


def test_content_security_policy_keeps_the_browser_on_this_origin(client: FlaskClient) -> None:
    policy = client.get("/docs").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert directives["script-src"] == "'self'"


@pytest.mark.parametrize("name", sorted(SWAGGER_UI_ASSETS))
def test_assets_are_the_packaged_swagger_ui(client: FlaskClient, name: str) -> None:
    with client.get(f"/docs/{name}") as response:
        assert response.status_code == 200
        assert response.get_data() == (SWAGGER_UI_DIR / name).read_bytes()


def test_swagger_ui_is_version_5(client: FlaskClient) -> None:
    # Swagger UI 4 cannot render OpenAPI 3.1 ("Unable to render this definition").
    assert re.fullmatch(r"swagger-ui-5\.\d+\.\d+", SWAGGER_UI_DIR.name)


@pytest.mark.parametrize(
    "path",
    ["/docs/index.html", "/docs/swagger-ui.js.map", "/docs/../service/app.py", "/docs/nope.js"],
)
def test_only_the_listed_assets_are_served(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_initializer_disables_the_public_validator(client: FlaskClient) -> None:
    script = client.get("/docs/swagger-initializer.js").get_data(as_text=True)
    assert "validatorUrl: null" in script


def test_docs_stay_open_when_api_keys_are_configured() -> None:
    # The page, its files and the spec carry no health data; a browser sends no key for them.
    from popcheck.app import create_app

    client = create_app({"TESTING": True, "api_keys": "secret-key"}).test_client()
    assert client.post("/assess", json={"age": 40}).status_code == 401
    for path in ("/docs", "/docs/swagger-initializer.js", "/openapi.yaml"):
        assert client.get(path).status_code == 200, path
    with client.get("/docs/swagger-ui-bundle.js") as response:
        assert response.status_code == 200
