"""Hostile input, run as a user would run the commands but under a memory and CPU-time limit
(tests/hostile.py): every case ends with exit 2, the offending file, key and value named, no
traceback, and nothing written."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from mailoauth.base import tree
from tests.gitrepo import GitRepo
from tests.hostile import alias_bomb, assert_refused, run_limited, snapshot
from tests.projectcopy import copy_project

DEV = "stacks/Pulumi.dev.yaml"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


def edit(project: Path, rel: str, old: str, new: str) -> None:
    text = (project / rel).read_text()
    assert old in text, old
    (project / rel).write_text(text.replace(old, new))


def line_of(project: Path, rel: str, text: str) -> int:
    """The number of the first line of `rel` that holds `text`, as error messages count lines (from 1)."""
    lines = (project / rel).read_text().splitlines()
    numbers = [number for number, line in enumerate(lines, start=1) if text in line]
    assert numbers, f"{text!r} not in {rel}"
    return numbers[0]


def bomb_stack(project: Path) -> None:
    """stacks/Pulumi.bomb.yaml: about 600 bytes, 9**9 strings once its aliases are expanded."""
    lines = ["config:", "  azuread:tenantId: 11111111-2222-3333-4444-555555555555", *alias_bomb()]
    lines += ["  mailoauth:apps:", "    x:", "      displayName: *a8", "      audience: *a8"]
    (project / "stacks" / "Pulumi.bomb.yaml").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("args", [("plan", "--stack", "bomb"), ("validate", "--all"), ("secrets", "report")])
def test_an_alias_bomb_in_a_stack_file_is_refused_while_loading(project: Path, args: tuple[str, ...]) -> None:
    bomb_stack(project)
    before = snapshot(project)
    result = run_limited(*args, cwd=project)
    assert_refused(
        result,
        "stacks/Pulumi.bomb.yaml:8: (file): document too large: the aliases (*name) here expand to more than "
        "100,000 values",
    )
    assert snapshot(project) == before


def test_another_stack_is_planned_quickly_beside_an_alias_bomb(project: Path) -> None:
    """The bomb is refused as soon as it is parsed, so it costs the other stacks nothing (`validate --all`
    reports it; the cross-stack callback rule leaves an unreadable file out)."""
    bomb_stack(project)
    result = run_limited("plan", "--stack", "dev", cwd=project)
    assert result.returncode == 0, result.stderr[-2000:]


def test_an_alias_bomb_in_a_pull_request_fails_the_diff(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("examples")
    bomb_stack(repo.path)
    result = run_limited("diff", "--base", "main", "--fail-on", "high", cwd=repo.path)
    assert_refused(result, "stacks/Pulumi.bomb.yaml (working tree):8: (file): document too large")


def test_an_alias_bomb_in_a_scope_set_is_refused(project: Path) -> None:
    text = (project / "scopes/sets/imap.yaml").read_text()
    lines = [line.removeprefix("  ") for line in alias_bomb()]
    (project / "scopes/sets/imap.yaml").write_text("\n".join(lines) + "\n" + text.replace("description:", "d0:", 1))
    edit(project, "scopes/sets/imap.yaml", "d0:", "description: *a8\nd0:")
    assert_refused(run_limited("plan", "--stack", "dev", cwd=project), "scopes/sets/imap.yaml:", "document too large")


def test_values_nested_too_deep_or_through_themselves(project: Path) -> None:
    (project / "stacks/Pulumi.deep.yaml").write_text("config:\n  x: " + "[" * 5000 + "]" * 5000 + "\n")
    assert_refused(run_limited("plan", "--stack", "deep", cwd=project), "stacks/Pulumi.deep.yaml:2: (file):")
    anchored = "config:\n  y: &y 1\n  x: " + "[" * 70 + "*y" + "]" * 70 + "\n"  # deep, with aliases
    (project / "stacks/Pulumi.deep.yaml").write_text(anchored)
    assert_refused(
        run_limited("plan", "--stack", "deep", cwd=project),
        "stacks/Pulumi.deep.yaml:3: (file): document too large: values nested more than 64 levels deep",
    )
    (project / "stacks/Pulumi.deep.yaml").write_text("config: &loop\n  x: *loop\n")
    assert_refused(run_limited("plan", "--stack", "deep", cwd=project), "stacks/Pulumi.deep.yaml:", "too large")


def test_a_stack_file_over_the_size_limit_is_refused_with_its_size(project: Path) -> None:
    padding = "# " + "x" * 98 + "\n"
    text = (project / DEV).read_text() + padding * (tree.MAX_FILE_BYTES // len(padding) + 1)
    (project / DEV).write_text(text)
    size = len(text.encode())
    assert_refused(
        run_limited("plan", "--stack", "dev", cwd=project),
        f"stacks/Pulumi.dev.yaml: (file): the file is {size:,} bytes; project files may be at most 4,194,304",
    )


@pytest.mark.parametrize("kind", ["fifo", "device", "zero"])
def test_a_stack_file_that_is_a_fifo_or_a_device_is_refused(project: Path, kind: str) -> None:
    target = project / "stacks" / f"Pulumi.{kind}.yaml"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":  # what /dev/zero is: reading it never ends
        try:
            os.mknod(target, 0o600 | stat.S_IFCHR, os.makedev(1, 5))
        except PermissionError:
            pytest.skip("making a device node needs root")
    else:
        target.symlink_to("/dev/zero")
    why = "is a link to a file outside" if kind == "zero" else "is not a regular file (a FIFO, socket or device)"
    for args in (("plan", "--stack", kind), ("validate", "--all")):
        assert_refused(run_limited(*args, cwd=project), f"stacks/Pulumi.{kind}.yaml: (file): the file {why}")


@pytest.mark.parametrize(
    ("key", "kind"), [("123", "a number"), ("2026-01-01", "a date"), ("0x1f", "a number"), ("yes", "true/false")]
)
def test_an_app_key_yaml_reads_as_a_number_or_date(project: Path, key: str, kind: str) -> None:
    edit(project, DEV, "    jira-mail-in:", f"    {key}:")
    line = line_of(project, DEV, f"    {key}:")
    assert_refused(
        run_limited("plan", "--stack", "dev", cwd=project),
        f"error: stacks/Pulumi.dev.yaml:{line}: (file): invalid key: the key '{key}' is read by YAML as {kind}, not as "
        "text; quote the key, or start it with a letter",
    )
    assert_refused(run_limited("secrets", "rotate", "--stack", "dev", "--app", key, cwd=project), f"the key '{key}'")


def test_a_long_include_chain_and_a_diamond_of_scope_sets(project: Path) -> None:
    sets = project / "scopes" / "sets"
    for i in range(3000):
        (sets / f"chain{i}.yaml").write_text(f"description: link {i}\nscopes: []\nincludes: [chain{i + 1}]\n")
    (sets / "chain3000.yaml").write_text("description: end\nscopes: [IMAP.AccessAsUser.All]\n")
    for i in range(60):  # each includes the next two: 2**60 paths through them, if walked naively
        (sets / f"d{i}.yaml").write_text(f"description: d\nscopes: []\nincludes: [d{i + 1}, d{i + 2}]\n")
    for i in (60, 61):
        (sets / f"d{i}.yaml").write_text("description: d\nscopes: [SMTP.Send]\n")
    profile = "product: email-this-issue\n      useCases: [mail-handler-imap, send-smtp]"
    edit(project, DEV, profile, "scopeSets: [chain0, d0]")
    result = run_limited("plan", "--stack", "dev", "--format", "json", cwd=project)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"value": "IMAP.AccessAsUser.All"' in result.stdout and '"value": "SMTP.Send"' in result.stdout
    (sets / "chain3000.yaml").write_text("description: end\nscopes: []\nincludes: [chain0]\n")
    assert_refused(
        run_limited("plan", "--stack", "dev", cwd=project),
        "scopes/sets/chain3000.yaml: includes[0]: including 'chain0' makes a cycle back to 'chain3000'",
    )


@pytest.mark.parametrize("name", ["x/../../../elsewhere/evil", "a b", "dev\n", "", "-" * 101, "dev.yaml/.."])
def test_a_stack_name_is_checked_before_it_becomes_a_path(project: Path, name: str) -> None:
    (project / "stacks" / "Pulumi.x").mkdir()  # what made the traversal reach outside stacks/
    before = snapshot(project.parent)
    for args in (("secrets", "rotate", "--stack", name, "--app", "evil"), ("plan", "--stack", name)):
        result = run_limited(*args, cwd=project)
        shown = f"argument --stack: {name!r} is not a stack name or stack file" if len(name) <= 60 else ""
        assert_refused(result, shown)  # a name of 101 '-' is read by argparse as an option: refused too
    assert snapshot(project.parent) == before


def test_stack_files_pulumi_would_not_read_are_refused_not_skipped(project: Path) -> None:
    shutil.copy(project / DEV, project / "stacks" / "Pulumi.extra.yml")
    assert_refused(
        run_limited("validate", "--all", cwd=project),
        "error: stacks: (file): the file 'Pulumi.extra.yml' is not named as a stack file: Pulumi reads a stack's "
        "settings only from Pulumi.<stack>.yaml; rename it",
    )
    (project / "stacks" / "Pulumi.extra.yml").rename(project / "stacks" / "Pulumi.a b.yaml")
    assert_refused(run_limited("secrets", "report", cwd=project), "the file 'Pulumi.a b.yaml' is not named as a stack")


def test_a_pull_request_adding_an_oddly_named_stack_fails_the_diff(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("examples")
    for odd in ("Pulumi.a b.yaml", "Pulumi.a\nb.yaml"):
        repo.write(f"stacks/{odd}", repo.read(DEV))
        repo.commit("odd stack")
        for head in (("--head", "HEAD"), ()):
            result = run_limited("diff", "--base", "main~1", *head, "--fail-on", "high", cwd=repo.path)
            assert_refused(result, f"the file {odd!r} is not named as a stack file")
        repo.git("rm", "--quiet", f"stacks/{odd}")
        repo.commit("removed")


@pytest.mark.parametrize("rev", ["no such", "main extra", "main\n", " main"])
def test_a_base_revision_with_spaces_is_an_unknown_revision(tmp_path: Path, rev: str) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("examples")
    assert_refused(run_limited("diff", "--base", rev, cwd=repo.path), "unknown revision")


def test_a_commit_with_a_malformed_timestamp(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("examples")
    lines = repo.git("cat-file", "commit", "HEAD").split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("committer "))
    who, _, zone = lines[at].rsplit(" ", 2)
    lines[at] = f"{who} 99999999999999999999 {zone}"
    (tmp_path / "commit").write_text("\n".join(lines) + "\n")
    oid = repo.git("hash-object", "-t", "commit", "-w", "--literally", str(tmp_path / "commit"))
    result = run_limited("diff", "--base", "main", "--head", oid, cwd=repo.path)
    assert_refused(result, "the commit's committer timestamp '99999999999999999999' is not a date")


CALLBACK = "https://jira-dev.example.com/plugins/servlet/oauth2/callback"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (f"{CALLBACK}#frag", "redirect URI has a fragment ('#...'); RFC 6749 section 3.1.2 forbids it"),
        (f"{CALLBACK}#", "redirect URI has a fragment"),
        (
            "https://jira-dev.example.com@evil.example/cb",
            "redirect URI has user info before '@': codes would go to evil.example, not to what precedes '@'",
        ),
        ('"https://jira-dev.example.com/cb\\tx"', "redirect URI contains whitespace or control characters"),
        ('"https://jira-dev.exa\\nmple.com/cb"', "redirect URI contains whitespace or control characters"),
        ("https://jira-dev.example.com:0/cb", "redirect URI has a port outside 1-65535"),
        ("https://jira-dev.example.com:65536/cb", "redirect URI has a port outside 1-65535"),
        ("https://jira-dev.example.com:http/cb", "redirect URI has a port outside 1-65535"),
    ],
)
def test_a_redirect_uri_that_reads_as_one_host_and_goes_to_another(project: Path, uri: str, message: str) -> None:
    edit(project, DEV, f"[{CALLBACK}]", f"[{uri}]")
    line = line_of(project, DEV, "redirectUris:")
    assert_refused(
        run_limited("plan", "--stack", "dev", cwd=project),
        f"error: stacks/Pulumi.dev.yaml:{line}: config.mailoauth:apps.jira-mail-in.redirectUris[0]: {message}",
    )


def test_an_internationalised_redirect_host_is_shown_with_its_punycode_and_a_warning(project: Path) -> None:
    edit(project, DEV, f"[{CALLBACK}]", "[https://jira-d\u0435v.example.com/cb]")  # a Cyrillic e
    result = run_limited("plan", "--stack", "dev", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "redirect URI   https://jira-d\u0435v.example.com/cb (host xn--jira-dv-dhg.example.com)" in result.stdout
    assert "browsers and Entra use xn--jira-dv-dhg.example.com: make sure it is the host you mean" in result.stdout


@pytest.mark.parametrize(
    "args", [("secrets", "report", "--within", "1y"), ("secrets", "rotate", "--stack", "dev", "--app", "jira-mail-in")]
)
def test_a_pinned_today_near_the_last_representable_year(project: Path, args: tuple[str, ...]) -> None:
    before = snapshot(project)
    result = run_limited(*args, cwd=project, env={"MAILOAUTH_TODAY": "9999-12-20"})
    assert_refused(result, "error: MAILOAUTH_TODAY: 9999-12-20 is after 9899; unset it to use today")
    assert snapshot(project) == before


def test_keep_token_leaves_another_users_file_as_it_was(tmp_path: Path) -> None:
    from mailoauth.verify.run import write_token_file

    theirs = tmp_path / "token.json"
    theirs.write_text("someone else's\n")
    if os.geteuid() == 0:
        os.chown(theirs, 65534, 65534)  # nobody
    else:
        pytest.skip("needs root to make a file of another user")
    with pytest.raises(PermissionError, match="it belongs to another user; choose a file of your own"):
        write_token_file(theirs, {"refreshToken": "secret"})
    assert theirs.read_text() == "someone else's\n"
    mine = tmp_path / "mine.json"
    write_token_file(mine, {"refreshToken": "r"})
    assert (mine.stat().st_mode & 0o777, mine.read_text()) == (0o600, '{\n  "refreshToken": "r"\n}\n')


def test_a_key_with_a_newline_cannot_print_a_forged_line(project: Path) -> None:
    forged = '      "x\\nerror: forged by the file": 1\n'
    edit(project, DEV, "      audience: single-tenant", f"{forged}      audience: single-tenant")
    at = line_of(project, DEV, "forged by the file")
    result = run_limited("plan", "--stack", "dev", cwd=project)
    problem = r"config.mailoauth:apps.jira-mail-in.x\nerror: forged by the file: unknown key"
    assert_refused(result, problem)
    assert [line for line in result.stderr.splitlines() if "forged" in line] == [
        f"error: stacks/Pulumi.dev.yaml:{at}: {problem}"
    ]


def test_a_stack_file_linked_to_a_file_outside_the_project_is_not_read(project: Path, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    outside.write_text("config:\n  the-secret-it-must-not-quote: hunter2\n")
    (project / "stacks" / "Pulumi.leak.yaml").symlink_to(outside)
    for args in (("plan", "--stack", "leak"), ("validate", "--all")):
        result = run_limited(*args, cwd=project)
        assert_refused(result, "stacks/Pulumi.leak.yaml: (file): the file is a link to a file outside the project")
        assert "hunter2" not in result.stdout + result.stderr and "the-secret" not in result.stdout + result.stderr


def test_a_stack_file_committed_as_a_symbolic_link_fails_the_diff(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("examples")
    (repo.path / "stacks" / "Pulumi.linked.yaml").symlink_to("Pulumi.dev.yaml")
    head = repo.commit("a stack that is a link")
    result = run_limited("diff", "--base", "main~1", "--head", head, cwd=repo.path)
    assert_refused(result, f"error: stacks/Pulumi.linked.yaml: (file): the file is a symbolic link at {head}; commit")


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "product: email-this-issue",
            r'product: "\e\N"',
            r"config.mailoauth:apps.jira-mail-in.product: unknown product '\x1b\x85'; products: ",
        ),
        (
            "useCases: [mail-handler-imap, send-smtp]",
            r'useCases: [mail-handler-imap, "send\Lx"]',
            r"config.mailoauth:apps.jira-mail-in.useCases[1]: Email This Issue has no use case 'send\u2028x'; ",
        ),
    ],
)
def test_a_name_with_line_breaking_characters_is_shown_escaped_on_one_line(
    project: Path, old: str, new: str, problem: str
) -> None:
    edit(project, DEV, old, new)
    at = line_of(project, DEV, new)
    result = run_limited("plan", "--stack", "dev", cwd=project)
    assert_refused(result, f"error: stacks/Pulumi.dev.yaml:{at}: {problem}")
    assert all(line.startswith(("error: ", "warning: ")) for line in result.stderr.splitlines()), result.stderr
