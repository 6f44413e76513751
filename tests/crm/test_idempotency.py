from octopushx.crm.models import Contact


def test_replay_returns_first_response_and_creates_once(admin_api, org):
    headers = {"HTTP_IDEMPOTENCY_KEY": "abc-123"}
    first = admin_api.post("/api/v1/contacts", {"first_name": "Once"}, **headers)
    second = admin_api.post("/api/v1/contacts", {"first_name": "Once"}, **headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Contact.objects.for_tenant(org).count() == 1


def test_same_key_with_other_body_is_422(admin_api, org):
    headers = {"HTTP_IDEMPOTENCY_KEY": "abc-123"}
    admin_api.post("/api/v1/contacts", {"first_name": "Once"}, **headers)
    response = admin_api.post("/api/v1/contacts", {"first_name": "Twice"}, **headers)
    assert response.status_code == 422 and "Idempotency-Key" in response.json()["errors"]
    assert Contact.objects.for_tenant(org).count() == 1


def test_keys_are_per_tenant(api_as, org, other_org):
    headers = {"HTTP_IDEMPOTENCY_KEY": "shared"}
    api_as("admin").post("/api/v1/contacts", {"first_name": "A"}, **headers)
    other = api_as("admin", tenant=other_org).post("/api/v1/contacts", {"first_name": "A"}, **headers)
    assert other.status_code == 201
    assert Contact.objects.for_tenant(other_org).count() == 1


def test_failed_request_does_not_store_key(admin_api, org):
    headers = {"HTTP_IDEMPOTENCY_KEY": "k"}
    assert admin_api.post("/api/v1/contacts", {"first_name": "A", "email": "bad"}, **headers).status_code == 422
    assert admin_api.post("/api/v1/contacts", {"first_name": "A", "email": "bad"}, **headers).status_code == 422
    assert admin_api.post("/api/v1/deals", {"name": "D"}, HTTP_IDEMPOTENCY_KEY="d1").status_code == 201
