"""Console sessions: login, CSRF on every form, lockout, cookie flags, logout, roles."""

from __future__ import annotations

from datetime import timedelta

from consolekit import PASSWORD, csrf_token, login, store
from flask import Flask
from flask.testing import FlaskClient
from servicekit import KEY_SECRET, StepClock

from adjudicator.audit.log import list_audit
from api import create_app


def _audit_actions(app: Flask) -> list[tuple[str, str | None]]:
    return [(e.action, e.actor_key_id) for e in list_audit(store(app), limit=200).items]


def test_the_login_page_has_labelled_username_and_password(client: FlaskClient, users) -> None:
    page = client.get("/console/login").get_data(as_text=True)
    assert '<label for="username">' in page and 'name="username"' in page
    assert '<label for="password">' in page and 'name="password"' in page
    assert "users create" not in page  # users exist: no first-user hint


def test_without_users_the_login_page_says_how_to_make_the_first(
    app: Flask, client: FlaskClient
) -> None:
    from servicekit import reset

    reset(store(app))
    page = client.get("/console/login").get_data(as_text=True)
    assert "adjudicator users create --name NAME --role admin" in page


def test_a_post_without_the_csrf_token_is_refused(app: Flask, client: FlaskClient, users) -> None:
    form = {"username": "staff", "password": PASSWORD}
    refused = client.post("/console/login", data=form)
    assert refused.status_code == 400
    assert "Form refused" in refused.get_data(as_text=True)
    forged = client.post("/console/login", data={**form, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert client.get("/console/").status_code == 302  # still not logged in
    assert ("user.login", f"user:{users['staff']}") not in _audit_actions(app)


def test_logout_without_the_token_is_refused(staff: FlaskClient) -> None:
    assert staff.post("/console/logout").status_code == 400
    assert staff.get("/console/").status_code == 200  # still logged in


def test_login_sets_a_httponly_samesite_cookie_and_records_the_login(
    app: Flask, client: FlaskClient, users
) -> None:
    token = csrf_token(client)
    form = {"username": "staff", "password": PASSWORD, "csrf_token": token}
    response = client.post("/console/login?next=/console/rules", data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/console/rules"
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if "adjudicator_console=" in c]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert ("user.login", f"user:{users['staff']}") in _audit_actions(app)


def test_the_cookie_is_secure_when_configured(app: Flask, adjudicator, users) -> None:
    secure = create_app({"STORE": store(app), "ADJUDICATOR": adjudicator,
                         "KEY_SECRET": KEY_SECRET, "CONSOLE_SECURE_COOKIES": True})  # fmt: skip
    client = secure.test_client()
    token = csrf_token(client)
    form = {"username": "staff", "password": PASSWORD, "csrf_token": token}
    response = client.post("/console/login", data=form)
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if "adjudicator_console=" in c]
    assert "; Secure" in cookie and "HttpOnly" in cookie


def test_an_outside_next_is_not_followed(client: FlaskClient, users) -> None:
    token = csrf_token(client)
    form = {"username": "staff", "password": PASSWORD, "csrf_token": token}
    response = client.post("/console/login?next=https://evil.example/console/", data=form)
    assert response.headers["Location"] == "/console/"


def test_five_failed_logins_lock_the_account_and_the_page_says_so(
    app: Flask, client: FlaskClient, users, clock: StepClock
) -> None:
    for attempt in range(5):
        form = {"username": "staff", "password": "wrong password", "csrf_token": csrf_token(client)}
        page = client.post("/console/login", data=form)
        assert page.status_code == 401
        text = page.get_data(as_text=True)
        if attempt < 4:
            assert "The name or the password is not right." in text
    assert "This account is locked after five failed logins" in text and "opens again at" in text
    form = {"username": "staff", "password": PASSWORD, "csrf_token": csrf_token(client)}
    still = client.post("/console/login", data=form)
    assert still.status_code == 401 and "is locked" in still.get_data(as_text=True)
    assert ("user.locked", f"user:{users['staff']}") in _audit_actions(app)
    clock.advance(timedelta(minutes=15))
    login(client, "staff")


def test_logout_ends_the_session_and_is_recorded(app: Flask, staff: FlaskClient, users) -> None:
    token = csrf_token(staff, "/console/")
    response = staff.post("/console/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/console/login"
    assert staff.get("/console/").status_code == 302
    assert ("user.logout", f"user:{users['staff']}") in _audit_actions(app)


def test_pages_need_a_login(client: FlaskClient) -> None:
    for path in ("/console/", "/console/rules", "/console/audit", "/console/claims/new"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/console/login?next=")


def test_roles_decide_which_pages_open(client: FlaskClient, users) -> None:
    login(client, "auditor")
    assert client.get("/console/audit").status_code == 200
    refused = client.get("/console/claims/new")
    assert refused.status_code == 403
    assert "Your role (auditor) may not open this page." in refused.get_data(as_text=True)
    client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/")})
    login(client, "staff")
    assert client.get("/console/claims/new").status_code == 200
    assert client.get("/console/audit").status_code == 403
    client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/")})
    login(client, "admin")
    assert client.get("/console/audit").status_code == 200
    assert client.get("/console/claims/new").status_code == 200


def test_the_api_is_not_subject_to_csrf(client: FlaskClient) -> None:
    # API requests carry a bearer key, not the console's cookie: no token is asked of them.
    response = client.post("/v1/decisions", json={})
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"


def test_every_console_write_refuses_a_post_without_the_token(
    app: Flask, staff: FlaskClient
) -> None:
    writes = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/console/") and "POST" in (rule.methods or set())
    }
    assert writes == {"/console/login", "/console/logout", "/console/claims/new",
                      "/console/claims/<claim_ref>/act"}  # fmt: skip
    before = len(list_audit(store(app), limit=200).items)
    for path in writes:
        response = staff.post(path.replace("<claim_ref>", "x"), data={"action": "note"})
        assert response.status_code == 400, path
    assert len(list_audit(store(app), limit=200).items) == before
