"""``parity bundle verify/show`` and ``parity keygen``: check, read and sign evidence bundles.

``parity bundle verify`` exits 0 when the bundle is intact (and, with ``--public-key``, signed by
that key), 1 when a file is missing, extra or altered or the signature does not match (one line
per problem on stderr), 2 when the file is not a readable bundle.
"""

from __future__ import annotations

from pathlib import Path

import click

from parity.cli._conventions import DECIDING, PLAIN, ParityCommand, ParityGroup
from parity.errors import ExitCode
from parity.report.escape import visible

#: File names ``parity keygen --out DIR`` writes.
PRIVATE_NAME = "parity-signing.key"
PUBLIC_NAME = "parity-signing.pub"


#: Exit codes of `bundle verify`.
VERIFY = {
    0: "intact (and signed, with --public-key)",
    1: "tampered: files missing, extra or altered, or a bad signature",
    2: DECIDING[2],
    4: DECIDING[4],
}


@click.group("bundle", cls=ParityGroup)
def bundle_group() -> None:
    """Verify or show an evidence bundle (evidence_bundle.zip or `compare --bundle`)."""


@bundle_group.command("verify", exit_codes=VERIFY)
@click.argument("bundle", metavar="BUNDLE", type=click.Path(dir_okay=False))
@click.option(
    "--public-key",
    "public_key",
    type=click.Path(dir_okay=False),
    help="PEM public key of the signer: the signature must be there and match.",
)
@click.pass_context
def verify_command(ctx: click.Context, bundle: str, public_key: str | None) -> None:
    """Check every hash in BUNDLE's SHA256SUMS and, with --public-key, its signature.

    Exit code 0 intact, 1 tampered or badly signed, 2 not a readable bundle.
    """
    from parity.report.bundle import load_public_key, verify_bundle

    key = load_public_key(public_key) if public_key is not None else None
    check = verify_bundle(bundle, key)
    for line in check.problems():
        click.echo(visible(line), err=True)
    if key is not None and check.signature == "absent":
        click.echo("signature: absent (the bundle is not signed)", err=True)
    n = len([f for f in check.files if f not in ("SHA256SUMS", "SHA256SUMS.sig")])
    bundle = visible(bundle)  # a name cannot forge a line
    if check.ok:
        click.echo(f"{bundle}: intact ({n} files; signature {check.signature})", err=True)
        ctx.exit(int(ExitCode.PASS))
    click.echo(f"{bundle}: TAMPERED or unsigned (signature {check.signature})", err=True)
    ctx.exit(int(ExitCode.FAIL))


@bundle_group.command("show", exit_codes=PLAIN)
@click.argument("bundle", metavar="BUNDLE", type=click.Path(dir_okay=False))
@click.option(
    "--json",
    "json_path",
    type=click.Path(allow_dash=True),
    metavar="PATH|-",
    help="Write the summary as JSON here ('-' = stdout).",
)
@click.option("--force", is_flag=True, help="Replace an existing --json file parity did not write.")
def show_command(bundle: str, json_path: str | None, force: bool) -> None:
    """Print the verdict inside BUNDLE, its reasons and its files."""
    from parity.cli._output import check_outputs, json_text, write_text
    from parity.report.bundle import bundle_summary

    check_outputs(inputs=(bundle,), files={"--json": json_path}, force=force)

    summary = bundle_summary(bundle)
    if json_path is not None:
        write_text(json_path, json_text(summary))
        if json_path == "-":
            return
    verdict = summary["verdict"] or "unknown"
    lines = [f"{summary['kind']} bundle {visible(bundle)}: {visible(verdict).upper()}"]
    lines += [f"  - {visible(reason)}" for reason in summary["reasons"]]
    intact = {True: "intact", False: "NOT intact (run `parity bundle verify`)", None: "unknown"}
    lines.append(f"hashes: {intact[summary['intact']]}")
    lines.append("files:")
    lines += [f"  {visible(name)}  ({size} bytes)" for name, size in summary["files"].items()]
    click.echo("\n".join(lines))


@click.command("keygen", cls=ParityCommand, exit_codes=PLAIN)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help=f"Folder for {PRIVATE_NAME} and {PUBLIC_NAME}.",
)
@click.option("--private", "private_path", type=click.Path(dir_okay=False), help="Private key.")
@click.option("--public", "public_path", type=click.Path(dir_okay=False), help="Public key.")
@click.option("--force", is_flag=True, help="Overwrite existing key files.")
def keygen_command(
    out_dir: str | None, private_path: str | None, public_path: str | None, force: bool
) -> None:
    """Write an Ed25519 key pair (PEM) for `--sign`; the private key gets mode 0o600.

    Give --out DIR, or --private PATH (and --public PATH; default PATH.pub).
    """
    from parity.report.bundle import write_keypair

    if out_dir is None and private_path is None:
        raise click.UsageError("give --out DIR or --private PATH [--public PATH]")
    private = Path(private_path) if private_path else Path(out_dir) / PRIVATE_NAME
    if public_path:
        public = Path(public_path)
    elif out_dir is not None and not private_path:
        public = Path(out_dir) / PUBLIC_NAME
    else:
        public = private.with_name(private.name + ".pub")
    from parity.cli._output import check_outputs

    check_outputs(files={"--private": private, "--public": public}, force=force)
    write_keypair(private, public, force=force)
    click.echo(f"private key: {private} (keep it secret)\npublic key: {public}", err=True)
