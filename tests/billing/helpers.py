"""Builders for the paid-support tests."""

from decimal import Decimal

from wagtail_tickets.models import IncidentPack

PRICE = Decimal("500.00")


def make_pack(name="Pack", *, incidents=5, validity="lifetime", departments=(), **extra):
    pack = IncidentPack.objects.create(name=name, incidents=incidents, validity=validity, **extra)
    if departments:
        pack.departments.set(departments)
    return pack
