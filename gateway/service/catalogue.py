"""The catalogs the gateway serves: each plan with its catalog and reply texts, and the mailers."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from carrier_rules import Catalog, Package
from gateway.domain.subscription import Subscription
from gateway.errors import GatewayError, UnknownShortcode
from gateway.service.mailer import CatalogMailer
from gateway.service.replies import Replies

__all__ = ["Catalogue", "Product", "new_id"]

_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count()


def new_id() -> str:
    """32 hex digits: a random per-process prefix and a counter.

    Unique like a uuid4, but consecutive ids sort together, so the database appends
    to its indexes instead of writing all over them.
    """
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


@dataclass(frozen=True, slots=True)
class Product:
    """A plan as sold: its terms, the catalog that sells it, the catalog's texts."""

    catalog: Catalog
    package: Package
    replies: Replies

    def held_price(self, sub: Subscription) -> int:
        """The list price ``sub`` holds for its term (the plan's price unless it holds one)."""
        return self.package.price if sub.price is None else sub.price


class Catalogue:
    """Every catalog by short code and every plan by code (codes are unique across them)."""

    def __init__(
        self,
        catalogs: Mapping[str, Catalog],
        *,
        mail_domain: str = "sms.local",
        new_id: Callable[[], str] = new_id,
    ) -> None:
        self.catalogs = dict(catalogs)
        self.mail_domain = mail_domain
        self.new_id = new_id
        self.replies = {code: Replies(c) for code, c in self.catalogs.items()}
        self.products: dict[str, Product] = {}
        for shortcode, catalog in self.catalogs.items():
            for package in catalog.packages:
                if package.code in self.products:
                    raise GatewayError(f"package code {package.code} is in two catalogs")
                self.products[package.code] = Product(catalog, package, self.replies[shortcode])
        self.mailers = {
            code: CatalogMailer(
                catalog=c, replies=self.replies[code], domain=mail_domain, new_id=new_id
            )
            for code, c in self.catalogs.items()
        }

    @property
    def shortcodes(self) -> frozenset[str]:
        return frozenset(self.catalogs)

    def catalog(self, shortcode: str) -> Catalog:
        try:
            return self.catalogs[shortcode]
        except KeyError:
            raise UnknownShortcode(shortcode) from None

    def product(self, code: str) -> Product:
        return self.products[code]

    def get(self, code: str) -> Product | None:
        return self.products.get(code)

    def is_free(self, sub: Subscription) -> bool:
        product = self.products.get(sub.package)
        return product is not None and product.package.price == 0
