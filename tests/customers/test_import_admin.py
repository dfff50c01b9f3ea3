"""The admin import flow: upload, preview (created, updated, rejected), confirm; crm_admin only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Customer, Interaction
from tests.customers.dataio import write_csv, write_xlsx
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:crm_import", args=["customer"])
CONFIRM = reverse("admin:crm_import_confirm", args=["customer"])
CHANGELIST = reverse("admin:customers_customer_changelist")


def upload(path):
    return SimpleUploadedFile(path.name, path.read_bytes())


def customers_file(tmp_path, *rows, name="customers.csv", **options):
    return write_csv(tmp_path / name, [["external_id", "name", "country"], *rows], **options)


def test_admin_previews_then_confirms_an_import(client, crm_admin, tmp_path):
    CustomerFactory(external_id="C1", name="Acme", country="DE")
    CustomerFactory(external_id="C2", name="Same", country="FR")
    path = customers_file(
        tmp_path, ["C1", "Acme", "AT"], ["C2", "Same", "FR"], ["C3", "Newco", "IT"], bom=True
    )
    client.force_login(crm_admin)
    assert client.get(IMPORT).status_code == 200

    preview = client.post(IMPORT, {"file": upload(path)})
    assert preview.status_code == 200
    report = preview.context["report"]
    assert (report.created, report.updated, report.unchanged, report.errors) == (1, 1, 1, [])
    content = preview.content.decode()
    assert "Will be created" in content
    assert "Will be updated" in content
    assert "DE → AT" in content
    assert Customer.objects.get(external_id="C1").country == "DE"  # nothing written yet
    assert not Customer.objects.filter(external_id="C3").exists()

    done = client.post(CONFIRM, {"token": preview.context["token"]})
    assert done.status_code == 302
    assert done.url == CHANGELIST
    assert Customer.objects.get(external_id="C1").country == "AT"
    created = Customer.objects.get(external_id="C3")
    assert created.history.get().history_user == crm_admin
    assert Customer.objects.get(external_id="C2").history.count() == 1  # unchanged: no new row
    messages = [str(m) for m in client.get(CHANGELIST).context["messages"]]
    assert any("1 created, 1 updated, 1 unchanged" in m for m in messages)


def test_preview_of_a_bad_file_lists_every_bad_row_and_offers_no_confirm(
    client, crm_admin, tmp_path
):
    path = write_xlsx(
        tmp_path / "bad.xlsx",
        [
            ["external_id", "name", "kind", "customer_since", "shoe_size"],
            ["C1", "Good", "company", "2020-01-01", None],
            ["C2", "", "company", "2020-01-01", None],
            ["C3", "Bad kind", "robot", "2020-01-01", None],
            ["C4", "Bad date", "company", "2020-15-01", None],
        ],
    )
    client.force_login(crm_admin)
    preview = client.post(IMPORT, {"file": upload(path)})
    assert preview.status_code == 200
    assert preview.context["token"] is None
    assert [(e.row, e.column) for e in preview.context["report"].errors] == [
        (1, "shoe_size"),
        (3, "name"),
        (4, "kind"),
        (5, "customer_since"),
    ]
    content = preview.content.decode()
    assert "import-confirm" not in content
    assert "nothing will be imported" in content
    assert not Customer.objects.exists()


def test_interaction_import_through_the_admin(client, crm_admin, tmp_path):
    CustomerFactory(external_id="C1")
    path = write_csv(
        tmp_path / "calls.csv",
        [
            ["customer", "kind", "occurred_at", "external_id"],
            ["C1", "call", "2025-01-02 10:00", "X1"],
        ],
        delimiter=";",
    )
    client.force_login(crm_admin)
    url = reverse("admin:crm_import", args=["interaction"])
    preview = client.post(url, {"file": upload(path)})
    assert preview.context["report"].created == 1
    client.post(
        reverse("admin:crm_import_confirm", args=["interaction"]),
        {"token": preview.context["token"]},
    )
    interaction = Interaction.objects.get()
    assert interaction.created_by == crm_admin
    assert interaction.external_id == "X1"


@pytest.mark.parametrize("role", ["rep", "cs"])
def test_only_crm_admin_imports(client, role, request, tmp_path):
    user = request.getfixturevalue(role)
    client.force_login(user)
    assert client.get(IMPORT).status_code == 403
    assert (
        client.post(
            IMPORT, {"file": upload(customers_file(tmp_path, ["C1", "X", "DE"]))}
        ).status_code
        == 403
    )
    assert not Customer.objects.exists()
    changelist = client.get(CHANGELIST).content.decode()
    assert IMPORT not in changelist
    assert reverse("admin:crm_export", args=["customer", "csv"]) in changelist


def test_changelist_links_to_import_for_crm_admin(client, crm_admin):
    client.force_login(crm_admin)
    for model in ("customer", "contact", "product", "subscription", "interaction"):
        page = client.get(reverse(f"admin:customers_{model}_changelist"))
        assert reverse("admin:crm_import", args=[model]) in page.content.decode(), model


def test_a_confirm_token_is_bound_to_its_user(client, crm_admin, tmp_path):
    from tests.factories import UserFactory

    client.force_login(crm_admin)
    preview = client.post(IMPORT, {"file": upload(customers_file(tmp_path, ["C1", "X", "DE"]))})
    token = preview.context["token"]
    other_admin = UserFactory(username="admin2", role="crm_admin")
    client.force_login(other_admin)
    assert client.post(CONFIRM, {"token": token}).status_code == 403
    assert client.post(CONFIRM, {"token": token + "x"}).status_code == 403
    assert not Customer.objects.exists()


def test_confirm_rechecks_the_file_against_the_current_data(client, crm_admin, tmp_path):
    path = write_csv(
        tmp_path / "contacts.csv",
        [["external_id", "customer", "last_name"], ["P1", "C1", "Lovelace"]],
    )
    CustomerFactory(external_id="C1")
    client.force_login(crm_admin)
    url = reverse("admin:crm_import", args=["contact"])
    preview = client.post(url, {"file": upload(path)})
    assert preview.context["report"].ok
    Customer.objects.all().delete()  # the referenced customer is gone before confirming
    refused = client.post(
        reverse("admin:crm_import_confirm", args=["contact"]), {"token": preview.context["token"]}
    )
    assert refused.status_code == 200
    assert [(e.row, e.column) for e in refused.context["report"].errors] == [(2, "customer")]


def test_an_upload_left_unconfirmed_expires(client, crm_admin, tmp_path):
    import os
    import time

    from django.core import signing

    from customers import admin_io
    from customers.importing import staging

    client.force_login(crm_admin)
    preview = client.post(IMPORT, {"file": upload(customers_file(tmp_path, ["C1", "X", "DE"]))})
    payload = signing.loads(preview.context["token"], salt=admin_io._SALT)
    old = staging.staged(payload["file"])
    an_hour_ago = time.time() - admin_io._MAX_AGE - 60
    os.utime(old, (an_hour_ago, an_hour_ago))
    # The next upload sweeps it away; confirming the old preview then finds nothing.
    client.post(IMPORT, {"file": upload(customers_file(tmp_path, ["C2", "Y", "DE"]))})
    assert not old.exists()
    assert client.post(CONFIRM, {"token": preview.context["token"]}).status_code == 404
    assert not Customer.objects.exists()
