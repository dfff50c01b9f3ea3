"""Imports refuse files over IMPORT_MAX_BYTES and sheets over IMPORT_MAX_ROWS with a clear
message (admin form, command, service), and stage uploads where only the server reads them."""

import os
import stat

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers import admin_io
from customers.importing import records_import
from customers.models import Customer
from tests.customers.dataio import write_csv, write_xlsx
from tests.customers.test_import import run

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:crm_import", args=["customer"])
CONFIRM = reverse("admin:crm_import_confirm", args=["customer"])


@pytest.fixture(autouse=True)
def staging(settings, tmp_path):
    settings.IMPORT_STAGING_DIR = str(tmp_path / "staging")
    return tmp_path / "staging"


def _customers(path, count):
    rows = [["external_id", "name"], *([f"C{n}", f"Customer {n}"] for n in range(count))]
    if path.suffix == ".xlsx":
        return write_xlsx(path, rows)
    return write_csv(path, rows)


def _upload(path):
    return SimpleUploadedFile(path.name, path.read_bytes())


def test_the_defaults_are_50_mb_and_a_million_rows():
    from django.conf import settings

    assert settings.IMPORT_MAX_BYTES == 50 * 1024 * 1024
    assert settings.IMPORT_MAX_ROWS == 1_000_000


def test_the_admin_refuses_a_file_over_the_size_limit(client, crm_admin, settings, tmp_path):
    path = _customers(tmp_path / "big.csv", 50)
    settings.IMPORT_MAX_BYTES = 200
    client.force_login(crm_admin)
    response = client.post(IMPORT, {"file": _upload(path)})
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert any("at most 200 bytes" in e for e in errors), errors
    assert not Customer.objects.exists()


def test_the_command_refuses_a_file_over_the_size_limit(settings, tmp_path):
    path = _customers(tmp_path / "big.csv", 50)
    settings.IMPORT_MAX_BYTES = 200
    _, _, error = run("customers", path)
    assert error is not None
    assert "at most 200 bytes" in str(error)
    assert not Customer.objects.exists()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_sheet_over_the_row_limit_is_refused_and_nothing_written(settings, tmp_path, suffix):
    path = _customers(tmp_path / f"rows{suffix}", 6)
    settings.IMPORT_MAX_ROWS = 5
    with pytest.raises(ValidationError) as refused:
        records_import(model_name="customers", data=path.read_bytes(), filename=path.name)
    assert "more than 5 rows" in " ".join(refused.value.messages)
    assert not Customer.objects.exists()
    settings.IMPORT_MAX_ROWS = 6
    records_import(model_name="customers", data=path.read_bytes(), filename=path.name)
    assert Customer.objects.count() == 6


def test_the_row_limit_holds_when_the_sheet_misstates_its_size(settings, tmp_path, monkeypatch):
    from customers.importing import files

    path = _customers(tmp_path / "rows.csv", 6)
    settings.IMPORT_MAX_ROWS = 5
    real = files.read_table

    def understated(data, filename):
        table = real(data, filename)
        table.estimated_rows = 1
        return table

    monkeypatch.setattr("customers.importing.service.read_table", understated)
    with pytest.raises(ValidationError):
        records_import(model_name="customers", data=path.read_bytes(), filename=path.name)
    assert not Customer.objects.exists()


def test_the_row_limit_in_the_admin_and_the_command(client, crm_admin, settings, tmp_path):
    path = _customers(tmp_path / "rows.csv", 6)
    settings.IMPORT_MAX_ROWS = 5
    client.force_login(crm_admin)
    response = client.post(IMPORT, {"file": _upload(path)})
    assert any("more than 5 rows" in e for e in response.context["form"].errors["file"])
    _, _, error = run("customers", path)
    assert "more than 5 rows" in str(error)


def test_uploads_are_staged_privately_under_the_configured_directory(
    client, crm_admin, staging, tmp_path
):
    client.force_login(crm_admin)
    tokens = []
    for count in (1, 2):
        preview = client.post(IMPORT, {"file": _upload(_customers(tmp_path / "c.csv", count))})
        tokens.append(preview.context["token"])
    assert stat.S_IMODE(staging.stat().st_mode) == 0o700
    staged = sorted(staging.iterdir())
    assert len(staged) == 2
    for path in staged:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert "c.csv" not in path.name  # nothing guessable from the upload
    names = {signing.loads(t, salt=admin_io._SALT)["file"] for t in tokens}
    assert names == {p.name for p in staged}
    assert client.post(CONFIRM, {"token": tokens[1]}).status_code == 302
    assert Customer.objects.count() == 2
    assert len(list(staging.iterdir())) == 1  # the confirmed upload is gone


def test_an_existing_staging_directory_is_made_private(client, crm_admin, staging, tmp_path):
    staging.mkdir(mode=0o777)
    os.chmod(staging, 0o777)
    client.force_login(crm_admin)
    client.post(IMPORT, {"file": _upload(_customers(tmp_path / "c.csv", 1))})
    assert stat.S_IMODE(staging.stat().st_mode) == 0o700
