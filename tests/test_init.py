"""`mailoauth init`: a stack file that plan accepts, from flags in a script or prompts on a terminal (a pty)."""

from __future__ import annotations

import json
import os
import pty
import select
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from mailoauth.base.problems import CommandError
from mailoauth.project import newstack as init
from tests.guardrails_support import make_project
from tests.pulumi_harness import ROOT, fake_id, run_program, secret_value, stack_config
from tests.test_secrets_rotate import light_install

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TODAY = "2026-11-27"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_project(tmp_path)
    for stack in (root / "stacks").iterdir():
        stack.unlink()
    return root


@pytest.fixture
def login() -> Iterator[str]:
    """A local stand-in for the login host: contoso's domains have a tenant, every other domain gets HTTP 400."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            domain, _, rest = self.path[1:].partition("/")
            if domain.startswith("contoso.") and rest == "v2.0/.well-known/openid-configuration":
                body, status = json.dumps({"issuer": f"https://login.microsoftonline.com/{TENANT}/v2.0"}), 200
            else:
                body, status = json.dumps({"error": "invalid_tenant", "error_codes": [90002]}), 400
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def mailoauth(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailoauth", "-C", str(project), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT), "MAILOAUTH_TODAY": TODAY},
        check=False,
    )


ODOO = ["--product", "odoo", "--use-case", "incoming-imap", "--use-case", "outgoing-smtp"]


def test_script_writes_a_commented_stack_that_plan_accepts(project: Path, login: str) -> None:
    done = mailoauth(
        project, "init", "--env", "lab", "--tenant", "contoso.example", *ODOO,
        "--instance-url", "https://erp.example.com", "--lifetime", "6m", "--login-url", login,
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "wrote stacks/Pulumi.lab.yaml; next: mailoauth plan --stack lab\n",
        "",
    )
    text = (project / "stacks/Pulumi.lab.yaml").read_text()
    assert f"  azuread:tenantId: {TENANT}   # contoso.example\n" in text
    assert "      instanceUrl: https://erp.example.com   # gives the callback URL " in text
    assert "      secret: {description: odoo-lab, expires: 2027-05-27}\n" in text
    plan = mailoauth(project, "plan", "--stack", "lab", "--format", "json")
    assert plan.returncode == 0, plan.stderr
    app = json.loads(plan.stdout)["apps"]["odoo"]
    assert app["redirectUris"] == ["https://erp.example.com/microsoft_outlook/confirm"]
    assert app["scopeSets"] == ["general", "imap", "smtp"]
    assert yaml.safe_load(text)["config"]["mailoauth:apps"]["odoo"]["useCases"] == ["incoming-imap", "outgoing-smtp"]


def test_a_product_without_a_pattern_takes_the_callback_url(project: Path) -> None:
    done = mailoauth(
        project, "init", "--stack", "jira", "--tenant", TENANT, "--product", "email-this-issue",
        "--use-case", "mail-handler-imap", "--callback-url", "https://jira.example.com/eti/callback",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = (project / "stacks/Pulumi.jira.yaml").read_text()
    assert "      # Email This Issue's callback URL, from the Callback URL field of the OAuth2 Client" in text
    assert "      redirectUris: [https://jira.example.com/eti/callback]\n" in text
    assert mailoauth(project, "plan", "--stack", "jira").returncode == 0


def test_overwriting_is_refused_and_the_file_is_untouched(project: Path) -> None:
    path = project / "stacks/Pulumi.lab.yaml"
    path.write_text("# hand-written\n")
    done = mailoauth(
        project, "init", "--stack", "lab", "--tenant", TENANT, *ODOO, "--instance-url", "https://erp.example.com"
    )
    assert (done.returncode, done.stderr) == (
        2,
        "error: stacks/Pulumi.lab.yaml exists; init never overwrites a stack file (edit it, or pick another --stack)\n",
    )
    assert path.read_text() == "# hand-written\n"


def test_unknown_domain_and_unreachable_network_say_where_the_guid_is(project: Path, login: str) -> None:
    flags = [*ODOO, "--env", "lab", "--instance-url", "https://erp.example.com"]
    done = mailoauth(project, "init", "--tenant", "acme.example", "--login-url", login, *flags)
    assert done.returncode == 2
    assert done.stderr == (
        f"error: no Microsoft Entra tenant has the domain acme.example ({login}/acme.example/v2.0/.well-known/"
        "openid-configuration: HTTP 400)\n"
    )
    done = mailoauth(project, "init", "--tenant", "acme.example", "--login-url", "http://127.0.0.1:9", *flags)
    assert done.returncode == 2
    assert done.stderr.startswith("error: could not look up the tenant of acme.example (")
    assert done.stderr.endswith(
        "); give the tenant GUID instead: Microsoft Entra admin center (https://entra.microsoft.com) > Entra ID > "
        "Overview > Properties > Tenant ID, or `az account tenant list`\n"
    )
    assert not (project / "stacks/Pulumi.lab.yaml").exists()


def test_the_first_stack_of_a_project_creates_stacks(project: Path) -> None:
    (project / "stacks").rmdir()
    done = mailoauth(
        project, "init", "--stack", "lab", "--tenant", TENANT, *ODOO, "--instance-url", "https://erp.example.com"
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert mailoauth(project, "plan", "--stack", "lab").returncode == 0


def test_a_script_missing_answers_names_every_flag(project: Path) -> None:
    done = mailoauth(project, "init", "--product", "odoo")
    assert (done.returncode, done.stderr) == (
        2,
        "error: not on a terminal, so these flags are needed: --stack, --tenant, --use-case, "
        "--instance-url or --callback-url\n",
    )


def test_bad_answers_are_refused_before_writing(project: Path) -> None:
    flags = ["--env", "lab", "--tenant", TENANT, "--instance-url", "https://erp.example.com"]
    cases = ["--product", "odoo", "--use-case", "incoming-imap"]
    for option, name in (("--stack", "../lab"), ("--env", "lab!")):  # --env: the older spelling, same rule
        done = mailoauth(project, "init", option, name, *flags[2:], *cases)
        assert (done.returncode, done.stderr.splitlines()[-1]) == (
            2,
            f"mailoauth init: error: argument --stack/--env: '{name}' is not a stack name or stack file "
            "(stacks/Pulumi.NAME.yaml)",
        )
    done = mailoauth(project, "init", *flags, "--product", "odo", "--use-case", "incoming-imap")
    assert done.stderr == "error: --product 'odo': no such profile in products/; did you mean 'odoo'?\n"
    done = mailoauth(project, "init", *flags, "--product", "odoo", "--use-case", "imap")
    assert done.stderr.startswith("error: --use-case 'imap': Odoo has no such use case; ")
    done = mailoauth(project, "init", *flags, *ODOO, "--lifetime", "30m")
    assert done.stderr.startswith("error: --lifetime 30m: a secret may live at most 24 months")
    done = mailoauth(
        project, "init", "--env", "lab", "--tenant", "acme", *ODOO, "--instance-url", "http://erp.example.com"
    )
    assert done.stderr.startswith("error: --tenant 'acme' is neither a tenant GUID nor a domain;")
    done = mailoauth(project, "init", *flags[:4], *ODOO, "--instance-url", "http://erp.example.com")
    assert done.returncode == 2
    assert "must use https" in done.stderr  # the guardrails judge the new file before it is written
    assert list((project / "stacks").iterdir()) == []


def test_resolve_tenant_uses_the_injected_fetch() -> None:
    asked: list[str] = []

    def fetch(url: str) -> bytes:
        asked.append(url)
        return json.dumps({"issuer": f"https://login.microsoftonline.us/{TENANT.upper()}/v2.0"}).encode()

    assert init.resolve_tenant("contoso.onmicrosoft.us", "https://login.microsoftonline.us", fetch) == (
        TENANT,
        "contoso.onmicrosoft.us",
    )
    assert asked == ["https://login.microsoftonline.us/contoso.onmicrosoft.us/v2.0/.well-known/openid-configuration"]
    assert init.resolve_tenant(TENANT.upper(), "unused", fetch) == (TENANT, None)
    with pytest.raises(CommandError, match=r"named no tenant for contoso\.example"):
        init.resolve_tenant("contoso.example", "https://login", lambda url: b'{"issuer": "nothing"}')


# --- on a terminal ---------------------------------------------------------------------------------------


def read_until(fd: int, text: str, timeout: float = 20.0) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"no {text!r} on the terminal; it showed {seen.decode(errors='replace')!r}")
        seen += os.read(fd, 4096)
    return seen.decode()


def init_on_terminal(project: Path, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    """`mailoauth init ARGS` with a pseudo-terminal for its streams; the terminal's other end."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailoauth", "-C", str(project), "init", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "PYTHONPATH": str(ROOT), "MAILOAUTH_TODAY": TODAY},
        close_fds=True,
    )
    os.close(follower)
    return proc, leader


def test_terminal_prompts_for_what_the_flags_leave_out(project: Path, login: str) -> None:
    proc, leader = init_on_terminal(project, "--login-url", login)
    try:
        answers = [
            ("Environment (stack name): ", "desk"),
            ("Product [email-this-issue, odoo, osticket, zammad]: ", "zammad"),
            ("Use cases (space or comma separated) [channel-imap-smtp]: ", "channel-imap-smtp"),
            ("Zammad base URL (the callback is {instanceUrl}/api/v1/external_credentials/microsoft365/callback): ", ""),
            ("Zammad base URL", "https://desk.example.com"),  # an empty answer is asked again
            ("Tenant (GUID or domain, e.g. contoso.onmicrosoft.com): ", "contoso.example"),
        ]
        for prompt, answer in answers:
            read_until(leader, prompt)
            os.write(leader, f"{answer}\n".encode())
        assert "wrote stacks/Pulumi.desk.yaml; next: mailoauth plan --stack desk" in read_until(leader, "next:")
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()
        os.close(leader)
    text = (project / "stacks/Pulumi.desk.yaml").read_text()
    assert "      instanceUrl: https://desk.example.com   # gives the callback URL" in text
    plan = mailoauth(project, "plan", "--stack", "desk", "--format", "json")
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["apps"]["zammad"]["redirectUris"] == [
        "https://desk.example.com/api/v1/external_credentials/microsoft365/callback"
    ]


def test_a_prompted_stack_name_meets_the_same_rule(project: Path, login: str) -> None:
    """A name typed at the prompt is not checked by the option's type: init checks it before writing."""
    flags = ["--tenant", TENANT, *ODOO, "--instance-url", "https://erp.example.com", "--login-url", login]
    proc, leader = init_on_terminal(project, *flags)
    try:
        read_until(leader, "Environment (stack name): ")
        os.write(leader, b"../lab\n")
        shown = read_until(leader, "(Pulumi's rule)")
        assert "error: --stack '../lab': a stack name is letters, digits, '-', '_' and '.' (Pulumi's rule)" in shown
        assert proc.wait(timeout=20) == 2
    finally:
        proc.kill()
        os.close(leader)
    assert not (project / "stacks/Pulumi.lab.yaml").exists()


def test_the_readme_walkthrough_from_init_to_handoff(
    project: Path, login: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's Email This Issue walkthrough, run as written (the copied callback URL filled in)."""
    monkeypatch.setenv("MAILOAUTH_TODAY", TODAY)  # the program under mocks checks the expiry init wrote
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## From `init` to `handoff`: Email This Issue")[1].split("```sh\n")[1].split("```")[0]
    commands = [c for c in block.replace("\\\n", " ").splitlines() if c.startswith(("mailoauth", "pulumi"))]
    init_line, plan_line, _, handoff_line = commands
    args = shlex.split(init_line.replace("<the Callback URL you copied>", "plugins/servlet/eti/oauth2"))[1:]
    done = mailoauth(project, *args, "--login-url", login)
    assert done.returncode == 0, done.stderr
    assert mailoauth(project, *shlex.split(plan_line)[1:]).returncode == 0
    doc = yaml.safe_load((project / "stacks/Pulumi.jira.yaml").read_text())
    run = run_program(stack_config(doc), "jira", project_dir=project)
    assert run.error is None
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(run.outputs))
    handoff_args = shlex.split(handoff_line.split("|")[1])[1:]
    handed = mailoauth(project, *[str(outputs) if a == "-" else a for a in handoff_args], "--format", "json")
    assert handed.returncode == 0, handed.stderr
    fields = {f["label"]: f["value"] for f in json.loads(handed.stdout)["fields"]}
    assert fields == {
        "Client ID": fake_id("client", "email-this-issue"),
        "Client Secret": secret_value("email-this-issue-secret"),
        "Authorization Endpoint": f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/authorize",
        "Token Endpoint": f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token",
        "Scope (IMAP)": "offline_access https://outlook.office.com/IMAP.AccessAsUser.All",
        "Scope (SMTP)": "offline_access https://outlook.office.com/SMTP.Send",
        "Callback URL": "https://jira.contoso.com/plugins/servlet/eti/oauth2",
    }


def test_init_and_handoff_run_on_the_light_install(project: Path) -> None:
    run = "from mailoauth.cli import main; raise SystemExit(main({args!r}))"
    args = ["init", "--env", "lab", "--tenant", TENANT, *ODOO, "--instance-url", "https://erp.example.com"]
    made = light_install(run.format(args=args), project)
    assert made.returncode == 0, made.stderr
    handed = light_install(run.format(args=["handoff", "--stack", "lab", "--app", "odoo"]), project)
    assert handed.returncode == 0, handed.stderr
    assert handed.stdout.startswith("Odoo: Settings > General Settings > Outlook Credentials for app odoo (stack lab)")
