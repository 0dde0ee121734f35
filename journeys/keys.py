"""`journeys keys create|list|revoke`: API keys, made and revoked against the database
(the service may be running; its API processes see the change within 2 seconds)."""

from __future__ import annotations

import argparse
import json
import secrets
import sys

from domain.api_keys import ApiKey, Keys
from domain.errors import JourneysError
from storage.values import iso

PREFIX = "jrn_"


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser],
                 database_option: object) -> None:
    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="action", required=True)
    create = keys.add_parser("create", help="make a key; its secret is printed once")
    whose = create.add_mutually_exclusive_group(required=True)
    whose.add_argument("--tenant", metavar="TENANT", help="the tenant the key acts for")
    whose.add_argument("--all-tenants", action="store_true",
                       help="an operator's key, for every tenant (needs --name)")
    create.add_argument("--name", help="what the key is for (default: the tenant's name)")
    create.add_argument("--json", action="store_true", help='one object: {"id", "name", '
                        '"tenantId", "key"}')
    listing = keys.add_parser("list", help="every key, without secrets")
    listing.add_argument("--json", action="store_true", help="one JSON array")
    revoke = keys.add_parser("revoke", help="revoke a key (it stops working within 2 s)")
    revoke.add_argument("key_id", metavar="KEY_ID")
    for parser in (create, listing, revoke):
        database_option(parser)  # type: ignore[operator]


def run(keys: Keys, args: argparse.Namespace) -> int:
    try:
        if args.action == "create":
            return _create(keys, args)
        if args.action == "revoke":
            key = keys.revoke(args.key_id)
            print(f"revoked {key.id} ({key.name})")
            return 0
    except JourneysError as refused:
        print(f"journeys: {refused.message}", file=sys.stderr)
        return 2
    ring = keys.ring()
    found = sorted(ring.keys.values(), key=lambda k: k.created_at) if ring else []
    if args.json:
        print(json.dumps([_document(key) for key in found]))
        return 0
    print(f"{'id':<38} {'name':<24} {'tenant':<20} {'created':<25} revoked")
    for key in found:
        print(f"{key.id:<38} {key.name:<24} {key.tenant_id or '(all tenants)':<20} "
              f"{iso(key.created_at):<25} {iso(key.revoked_at) if key.revoked_at else '-'}")
    return 0


def _create(keys: Keys, args: argparse.Namespace) -> int:
    if args.all_tenants and not args.name:
        print("journeys: an all-tenants key needs --name", file=sys.stderr)
        return 2
    name = args.name or f"{args.tenant} key"
    secret = PREFIX + secrets.token_urlsafe(32)
    key = keys.issue(name, None if args.all_tenants else args.tenant, secret)
    if args.json:
        print(json.dumps({"id": key.id, "name": key.name, "tenantId": key.tenant_id,
                          "key": secret}))
    else:
        print(f"created {key.id} ({key.name}, "
              f"{'every tenant' if key.tenant_id is None else 'tenant ' + key.tenant_id}); "
              "its secret, shown this once:")
        print(secret)
    return 0


def _document(key: ApiKey) -> dict[str, object]:
    return {"id": key.id, "name": key.name, "tenantId": key.tenant_id,
            "createdAt": iso(key.created_at), "revokedAt": iso(key.revoked_at)
            if key.revoked_at else None}
