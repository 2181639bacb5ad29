"""FreeFileSync job import: every mapping, both layouts, real samples, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.ffs_import import FfsImportError, import_ffs, import_ffs_file, save_as_syncjob
from app.core.job import job_from_dict, load_job

DATA = Path(__file__).parents[1] / "data" / "ffs"
SAMPLES = Path(__file__).parents[2] / ".." / "shared" / "ffs-samples"


def ffs(body: str = "", pairs: str = "<Pair><Left>/a</Left><Right>/b</Right></Pair>",
        fmt: str = "23", xml_type: str = "GUI") -> bytes:
    """A minimal current-layout FreeFileSync document around ``body``."""
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<FreeFileSync XmlType="{xml_type}" '
            f'XmlFormat="{fmt}">{body}<FolderPairs>{pairs}</FolderPairs></FreeFileSync>'
            ).encode()


def warned(imp, where: str, text: str = "") -> bool:
    return any(w.where == where and text in w.message for w in imp.warnings)


def valid(job: dict) -> None:
    """The document passes the job loader's validation."""
    job_from_dict(job, "/tmp")


# ----------------------------------------------------------------- fixtures by us

def test_current_layout_custom_job_maps_every_setting():
    imp = import_ffs_file(DATA / "current-custom.ffs_batch")
    job = imp.job
    valid(job)
    assert job["name"] == "current-custom"
    assert job["compare"] == {"method": "content", "symlinks": "as_link",
                              "ignore_time_shift_hours": [1, 2]}
    assert job["sync"] == {
        "variant": "custom",
        "custom": {"left_only": "to_right", "right_only": "to_left", "left_newer": "to_right",
                   "right_newer": "none", "different": "to_right", "conflict": "none"},
        "detect_moves": True, "deletion": "versioning", "versioning_folder": "/srv/versions"}
    assert job["filter"] == {
        "include": ["/[pP][rR][oO][jJ][eE][cC][tT][sS]/", "*.[tT][xX][tT]"],
        "exclude": ["*.[tT][mM][pP]", "[cC][aA][cC][hH][eE]/",
                    "/[pP][rR][oO][jJ][eE][cC][tT][sS]/[bB][uU][iI][lL][dD]/"],
        "min_size_bytes": 4 * 1024, "max_size_bytes": 2 * 1024 * 1024}
    assert job["errors"] == "continue"
    assert job["parallel_local"] == 6


def test_pair_overrides_replace_compare_and_sync_and_add_to_the_filter():
    pair = import_ffs_file(DATA / "current-custom.ffs_batch").job["pairs"][0]
    assert pair["compare"] == {"method": "size", "symlinks": "follow",
                               "ignore_time_shift_hours": []}
    assert pair["sync"] == {"variant": "mirror", "direction": "to_right",
                            "detect_moves": False, "deletion": "permanent"}
    # FreeFileSync applies the job's filter and the pair's: excludes add up; the
    # pair's min size (100 B) is below the job's (4 KB), so the job's stays.
    assert pair["filter"] == {"exclude": ["*.[tT][mM][pP]", "[cC][aA][cC][hH][eE]/",
                                          "/[pP][rR][oO][jJ][eE][cC][tT][sS]/[bB][uU][iI][lL][dD]/",
                                          "*.[rR][aA][wW]"]}


def test_sftp_pair_becomes_a_location_and_a_connection():
    imp = import_ffs_file(DATA / "current-custom.ffs_batch")
    pair = imp.job["pairs"][1]
    assert pair == {"left": "/home/alice/models",
                    "right": "sftp://alice@gpu.example.org:2222/srv/models"}
    assert imp.job["connections"] == {"alice@gpu.example.org:2222": {
        "auth": "key", "key_file": "/home/alice/.ssh/id_ed25519", "timeout_seconds": 30,
        "parallel": 4}}


def test_ftp_and_google_drive_pairs_are_skipped_with_reasons():
    imp = import_ffs_file(DATA / "current-custom.ffs_batch")
    assert len(imp.job["pairs"]) == 2
    assert [(s.number, s.left) for s in imp.skipped_pairs] == [
        (3, "/home/alice/site"), (4, 'gdrive:"alice@example.org"/Documents')]
    assert "FTP" in imp.skipped_pairs[0].reason
    assert "Google Drive" in imp.skipped_pairs[1].reason
    assert warned(imp, "pair 3", "skipped") and warned(imp, "pair 4", "skipped")


def test_settings_without_equivalent_are_warned_one_by_one():
    imp = import_ffs_file(DATA / "current-custom.ffs_batch")
    for where, text in [("Filter/TimeSpan", "x-days"), ("Errors@Retry", "2 time"),
                        ("PostSyncCommand", "notify-done"), ("LogFolder", "/var/log/ffs"),
                        ("EmailNotification", "alice@example.org"),
                        ("Batch/PostSyncAction", "Sleep")]:
        assert warned(imp, where, text), where
    # The versioning style is the one Syncpane uses: no warning about it.
    assert not any("Style" in w.where for w in imp.warnings)


def test_changes_and_differences_layout():
    imp = import_ffs_file(DATA / "current-changes.ffs_gui")
    job = imp.job
    valid(job)
    assert job["sync"] == {"variant": "two_way", "detect_moves": True,
                           "deletion": "versioning", "versioning_folder": "/srv/old versions"}
    assert job["compare"]["ignore_time_shift_hours"] == [1]
    assert warned(imp, "Compare/IgnoreTimeShift", "30 minutes")
    assert warned(imp, "Synchronize/VersioningFolder@Style", "one old version per file")
    assert warned(imp, "Synchronize/VersioningFolder@MaxAge")
    assert warned(imp, "Notes", "Weekly sync")
    assert warned(imp, "Filter/Include", "empty folders")
    p1, p2, p3 = job["pairs"]
    assert p1["sync"] == {"variant": "update", "direction": "to_right", "detect_moves": False,
                          "deletion": "recycle"}
    assert p2["sync"]["custom"] == {"left_only": "to_right", "right_only": "none",
                                    "left_newer": "to_right", "right_newer": "to_left",
                                    "different": "none", "conflict": "none"}
    assert warned(imp, "pair 2/Synchronize/Changes", "deletes nothing")
    assert p3["sync"]["custom"]["different"] == "none"  # LeftNewer and RightNewer disagree
    assert warned(imp, "pair 3/Synchronize/DeletionPolicy", "TrashCan")


def test_sftp_password_is_not_imported_and_the_credentials_command_is_named():
    imp = import_ffs_file(DATA / "current-changes.ffs_gui")
    assert imp.job["pairs"][0]["right"] == "sftp://bob@[fd00::5]:22/data/raw"
    assert imp.job["connections"] == {"bob@[fd00::5]:22": {"auth": "password"}}
    assert "c2VjcmV0" not in json.dumps(imp.job)
    assert warned(imp, "pair 1", "syncpane credentials set bob@[fd00::5]:22")


def test_macros_and_volume_labels_are_kept_and_warned():
    imp = import_ffs_file(DATA / "current-changes.ffs_gui")
    assert imp.job["pairs"][1]["left"] == "%csidl_Desktop%\\lab"
    assert imp.job["pairs"][1]["right"] == "[Backup]\\lab"
    assert warned(imp, "pair 2", "%csidl_Desktop%")
    assert warned(imp, "pair 2", "volume label")


def test_old_layout_maps_every_setting():
    imp = import_ffs_file(DATA / "old-custom.ffs_gui")
    job = imp.job
    valid(job)
    assert job["compare"] == {"method": "content", "symlinks": "skip",
                              "ignore_time_shift_hours": [1]}
    assert job["sync"]["custom"] == {"left_only": "to_right", "right_only": "none",
                                     "left_newer": "to_right", "right_newer": "to_left",
                                     "different": "to_left", "conflict": "none"}
    # Old "TimeStamp" style = one copy per file with the time in its name: no warning.
    assert job["sync"]["versioning_folder"] == "/archive/versions"
    assert not any("Style" in w.where for w in imp.warnings)
    # Format 6 separated filter items with ';' too.
    assert job["filter"]["exclude"] == ["*.[bB][aA][kK]", "*.[oO][lL][dD]", "/[tT][eE][mM][pP]/"]
    assert job["filter"]["max_size_bytes"] == 1024 * 1024
    assert job["errors"] == "stop"
    assert warned(imp, "GuiConfig/HandleError", "asked")
    # "Close progress dialog" is how FreeFileSync 6 wrote "no command".
    assert not any(w.where == "OnCompletion" for w in imp.warnings)


def test_old_layout_pair_overrides_and_legacy_sftp_syntax():
    imp = import_ffs_file(DATA / "old-custom.ffs_gui")
    pair = imp.job["pairs"][0]
    assert pair["right"] == "sftp://carol@nas.local:22/volume1/music"
    assert imp.job["connections"] == {"carol@nas.local:22": {"parallel": 3, "auth": "password"}}
    assert pair["compare"]["symlinks"] == "follow"
    assert pair["sync"]["variant"] == "mirror"
    assert pair["filter"] == {"include": ["/[aA][lL][bB][uU][mM][sS]/"],
                              "exclude": ["*.[bB][aA][kK]", "*.[oO][lL][dD]",
                                          "/[tT][eE][mM][pP]/", "*.[mM]3[uU]"],
                              "max_size_bytes": 512 * 1024}
    assert [s.number for s in imp.skipped_pairs] == [2]
    assert "MTP" in imp.skipped_pairs[0].reason


# ----------------------------------------------------------------- single mappings

@pytest.mark.parametrize("variant,expected", [
    ("TwoWay", {"variant": "two_way"}),
    ("Mirror", {"variant": "mirror", "direction": "to_right"}),
    ("Update", {"variant": "update", "direction": "to_right"}),
])
def test_named_variants(variant, expected):
    imp = import_ffs(ffs(f"<Synchronize><Variant>{variant}</Variant></Synchronize>", fmt="17"),
                     "v.ffs_gui")
    # Without <DetectMovedFiles>, FreeFileSync does not detect moves.
    assert imp.job["sync"] == {**expected, "detect_moves": False}


@pytest.mark.parametrize("attrs,expected", [
    ('LeftOnly="right" LeftNewer="right" RightNewer="right" RightOnly="right"',
     {"variant": "mirror", "direction": "to_right"}),
    ('LeftOnly="left" LeftNewer="left" RightNewer="left" RightOnly="left"',
     {"variant": "mirror", "direction": "to_left"}),
    ('LeftOnly="none" LeftNewer="none" RightNewer="left" RightOnly="left"',
     {"variant": "update", "direction": "to_left"}),
])
def test_differences_that_match_a_named_variant(attrs, expected):
    imp = import_ffs(ffs(f"<Synchronize><Differences {attrs}/></Synchronize>"), "d.ffs_gui")
    assert imp.job["sync"] == {**expected, "detect_moves": False}


@pytest.mark.parametrize("left,right,expected", [
    (("right",) * 3, ("right",) * 3, {"variant": "mirror", "direction": "to_right"}),
    (("left",) * 3, ("left",) * 3, {"variant": "mirror", "direction": "to_left"}),
    (("right", "right", "none"), ("none",) * 3, {"variant": "update", "direction": "to_right"}),
])
def test_changes_that_match_a_named_variant(left, right, expected):
    def side(name, v):
        return f'<{name} Create="{v[0]}" Update="{v[1]}" Delete="{v[2]}"/>'
    imp = import_ffs(ffs(f"<Synchronize><Changes>{side('Left', left)}{side('Right', right)}"
                         "</Changes></Synchronize>"), "c.ffs_gui")
    assert imp.job["sync"] == {**expected, "detect_moves": True}
    if expected["variant"] == "update":
        assert warned(imp, "Synchronize/Changes", "copies them again")


def test_unknown_direction_value_becomes_none_with_a_warning():
    imp = import_ffs(ffs('<Synchronize><Differences LeftOnly="up" LeftNewer="right" '
                         'RightNewer="none" RightOnly="none"/></Synchronize>'), "x.ffs_gui")
    assert imp.job["sync"]["custom"]["left_only"] == "none"
    assert warned(imp, "Synchronize/Differences@LeftOnly", '"up"')


@pytest.mark.parametrize("phrase,hours,warns", [
    ("", [], False), ("1", [1], False), ("2, 1;1 -3", [1, 2, 3], False),
    ("1:00", [1], False), ("0:30", [], True), ("5:45, 2", [2], True),
])
def test_ignore_time_shift_phrases(phrase, hours, warns):
    imp = import_ffs(ffs(f"<Compare><IgnoreTimeShift>{phrase}</IgnoreTimeShift></Compare>"),
                     "t.ffs_gui")
    assert imp.job["compare"]["ignore_time_shift_hours"] == hours
    assert warned(imp, "Compare/IgnoreTimeShift") == warns


@pytest.mark.parametrize("compare,method", [("TimeAndSize", "time_size"),
                                            ("Content", "content"), ("Size", "size")])
@pytest.mark.parametrize("links,symlinks", [("Exclude", "skip"), ("Direct", "as_link"),
                                            ("Follow", "follow")])
def test_compare_variants_and_symlinks(compare, method, links, symlinks):
    imp = import_ffs(ffs(f"<Compare><Variant>{compare}</Variant><Symlinks>{links}</Symlinks>"
                         "</Compare>"), "c.ffs_gui")
    assert imp.job["compare"] == {"method": method, "symlinks": symlinks}


@pytest.mark.parametrize("policy,deletion", [("RecycleBin", "recycle"),
                                             ("Permanent", "permanent")])
def test_deletion_policies(policy, deletion):
    imp = import_ffs(ffs(f"<Synchronize><Variant>Mirror</Variant><DeletionPolicy>{policy}"
                         '</DeletionPolicy><VersioningFolder Style="Replace"/></Synchronize>',
                         fmt="17"), "p.ffs_gui")
    assert imp.job["sync"]["deletion"] == deletion
    assert "versioning_folder" not in imp.job["sync"]
    assert not imp.warnings


@pytest.mark.parametrize("style,folder,kept,warns", [
    ("TimeStamp-File", "/v", "/v", False),
    ("TimeStamp-Folder", "/v", "/v", True),
    ("Replace", "/v", "/v", True),
])
def test_versioning_styles(style, folder, kept, warns):
    imp = import_ffs(ffs("<Synchronize><Variant>Mirror</Variant><DeletionPolicy>Versioning"
                         f'</DeletionPolicy><VersioningFolder Style="{style}">{folder}'
                         "</VersioningFolder></Synchronize>", fmt="17"), "v.ffs_gui")
    assert imp.job["sync"]["deletion"] == "versioning"
    assert imp.job["sync"]["versioning_folder"] == kept
    assert warned(imp, "Synchronize/VersioningFolder@Style") == warns
    valid(imp.job)


def test_old_timestamp_folder_macro_is_the_timestamp_folder_style():
    imp = import_ffs(ffs("<Synchronize><Variant>Mirror</Variant><DeletionPolicy>Versioning"
                         '</DeletionPolicy><VersioningFolder Style="Replace">/v/%timestamp%'
                         "</VersioningFolder></Synchronize>", fmt="11"), "v.ffs_gui")
    assert imp.job["sync"]["versioning_folder"] == "/v"
    assert warned(imp, "Synchronize/VersioningFolder@Style", "folder named after the time")


def test_versioning_without_a_folder_falls_back_to_the_recycle_bin():
    imp = import_ffs(ffs("<Synchronize><Variant>Mirror</Variant><DeletionPolicy>Versioning"
                         '</DeletionPolicy><VersioningFolder Style="TimeStamp-File"/>'
                         "</Synchronize>", fmt="17"), "v.ffs_gui")
    assert imp.job["sync"]["deletion"] == "recycle"
    assert warned(imp, "Synchronize/VersioningFolder", "recycle bin")
    valid(imp.job)


def test_versioning_folder_on_sftp_adds_its_connection():
    imp = import_ffs(ffs("<Synchronize><Variant>Mirror</Variant><DeletionPolicy>Versioning"
                         '</DeletionPolicy><VersioningFolder Style="TimeStamp-File">'
                         "sftp://v@host/old|agent</VersioningFolder></Synchronize>", fmt="17"),
                     "v.ffs_gui")
    assert imp.job["sync"]["versioning_folder"] == "sftp://v@host:22/old"
    assert imp.job["connections"] == {"v@host:22": {"auth": "agent"}}


@pytest.mark.parametrize("unit,value,expected", [("Byte", "10", 10), ("KB", "3", 3072),
                                                 ("MB", "1", 1048576), ("GB", "2", 2 << 30),
                                                 ("None", "5", None)])
def test_size_limits_with_units(unit, value, expected):
    imp = import_ffs(ffs(f'<Filter><SizeMax Unit="{unit}">{value}</SizeMax>'
                         f'<SizeMin Unit="{unit}">{value}</SizeMin></Filter>'), "s.ffs_gui")
    assert imp.job["filter"]["max_size_bytes"] == expected
    assert imp.job["filter"]["min_size_bytes"] == expected


def test_empty_exclude_list_is_written_so_syncpane_defaults_do_not_apply():
    imp = import_ffs(ffs("<Filter><Include><Item>*</Item></Include><Exclude/></Filter>"),
                     "f.ffs_gui")
    assert imp.job["filter"]["include"] == ["**"]
    assert imp.job["filter"]["exclude"] == []


@pytest.mark.parametrize("ignore,expected", [("true", "continue"), ("false", "stop")])
def test_errors_ignore(ignore, expected):
    imp = import_ffs(ffs(f'<Errors Ignore="{ignore}" Retry="0" Delay="5"/>'), "e.ffs_gui")
    assert imp.job["errors"] == expected


def test_sftp_options_agent_zlib_unknown_and_threads():
    pairs = ("<Pair><Left>/a</Left><Right Threads=\"5\">sftp://u@h:2200/x|agent|zlib|foo=1"
             "</Right></Pair>")
    imp = import_ffs(ffs(pairs=pairs), "s.ffs_gui")
    assert imp.job["connections"] == {"u@h:2200": {"auth": "agent", "parallel": 5}}
    assert warned(imp, "pair 1", "zlib") and warned(imp, "pair 1", '"foo=1"')
    assert not warned(imp, "pair 1", "credentials")


def test_sftp_path_with_percent_sign_survives_the_location_parser():
    pairs = "<Pair><Left>/a</Left><Right>sftp://u@h/data/100%25 done|agent</Right></Pair>"
    imp = import_ffs(ffs(pairs=pairs), "s.ffs_gui")
    job = job_from_dict(imp.job, "/tmp")
    assert job.pairs[0].right.path == "/data/100%25 done"


def test_same_server_with_other_options_keeps_the_first_and_warns():
    pairs = ("<Pair><Left>/a</Left><Right>sftp://u@h/x|agent</Right></Pair>"
             "<Pair><Left>/b</Left><Right>sftp://u@h/y|keyfile=/k</Right></Pair>")
    imp = import_ffs(ffs(pairs=pairs), "s.ffs_gui")
    assert imp.job["connections"] == {"u@h:22": {"auth": "agent"}}
    assert warned(imp, "pair 2", "first ones are kept")


def test_windows_paths_are_kept_as_written():
    pairs = r"<Pair><Left>C:\Users\me\Docs</Left><Right>\\server\share\Docs</Right></Pair>"
    imp = import_ffs(ffs(pairs=pairs), "w.ffs_gui")
    assert imp.job["pairs"] == [{"left": r"C:\Users\me\Docs", "right": r"\\server\share\Docs"}]


def test_unknown_elements_are_reported_not_dropped():
    imp = import_ffs(ffs("<Compare><Variant>Size</Variant><Fancy>1</Fancy></Compare><Extra/>"),
                     "u.ffs_gui")
    assert warned(imp, "Compare/Fancy") and warned(imp, "Extra")


def test_clean_file_has_no_warnings():
    body = ('<Compare><Variant>TimeAndSize</Variant><Symlinks>Exclude</Symlinks>'
            '<IgnoreTimeShift/></Compare><Synchronize><Differences LeftOnly="right" '
            'LeftNewer="right" RightNewer="right" RightOnly="right"/><DeletionPolicy>'
            'RecycleBin</DeletionPolicy><VersioningFolder Style="Replace"/></Synchronize>'
            '<Filter><Include><Item>*</Item></Include><Exclude><Item>*.tmp</Item></Exclude>'
            '<SizeMin Unit="None">0</SizeMin><SizeMax Unit="None">0</SizeMax>'
            '<TimeSpan Type="None">0</TimeSpan></Filter>'
            '<Errors Ignore="false" Retry="0" Delay="5"/><PostSyncCommand Condition="Completion"/>'
            '<LogFolder/><EmailNotification Condition="Always"/>'
            '<GridViewType>Action</GridViewType>')
    imp = import_ffs(ffs(body), "clean.ffs_gui")
    assert imp.warnings == []
    valid(imp.job)


# ----------------------------------------------------------------- real samples

def _sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"the shared FreeFileSync samples are not here ({SAMPLES})")
    return path


def test_real_sample_format17_mirror_with_crlf_and_tab_indented_pair():
    path = _sample("format17-mirror.ffs_batch")
    assert b"\r\n" in path.read_bytes()
    imp = import_ffs_file(path)
    assert imp.job["pairs"] == [{"left": "/data/dermaImage",
                                 "right": "/mount_data/snuh_mid/imageBackUp"}]
    assert imp.job["sync"] == {"variant": "mirror", "direction": "to_right",
                               "detect_moves": False, "deletion": "recycle"}
    assert imp.job["filter"]["exclude"] == [".[tT][rR][aA][sS][hH]-*/",
                                            ".[rR][eE][cC][yY][cC][lL][eE]/"]
    assert imp.job["errors"] == "stop"
    valid(imp.job)


def test_real_sample_format17_two_way():
    imp = import_ffs_file(_sample("format17-twoway.ffs_batch"))
    assert imp.job["sync"]["variant"] == "two_way"
    assert imp.job["pairs"][0] == {"left": "/media/slbtty/T7/Documents",
                                   "right": "/home/slbtty/Documents"}
    assert warned(imp, "Batch/ProgressDialog", "minimized")
    valid(imp.job)


def test_real_sample_format6_update_with_windows_paths():
    imp = import_ffs_file(_sample("format6-update.ffs_batch"))
    job = imp.job
    assert job["pairs"] == [{"left": "E:\\git\\jav-project\\output",
                             "right": "D:\\微云同步盘\\48822512\\j"}]
    assert job["sync"] == {"variant": "update", "direction": "to_right", "detect_moves": False,
                           "deletion": "permanent"}
    assert job["errors"] == "continue"  # BatchConfig/HandleError = Ignore
    assert job["filter"]["min_size_bytes"] is None  # 0 KB is no limit
    assert "/$[rR][eE][cC][yY][cC][lL][eE].[bB][iI][nN]/" in job["filter"]["exclude"]
    assert "[tT][hH][uU][mM][bB][sS].[dD][bB]" in job["filter"]["exclude"]
    # Windows paths cannot be checked on this system: validate the rest with local ones.
    job_from_dict({**job, "pairs": [{"left": "/l", "right": "/r"}]}, "/tmp")


# ----------------------------------------------------------------- bad input

@pytest.mark.parametrize("data,message", [
    (b"", "not usable XML"),
    (b"this is not xml", "not usable XML"),
    (b"<FreeFileSync XmlType='BATCH'><FolderPairs>", "not usable XML"),
    (b"<?xml version='1.0'?><settings/>", "root element is <settings>"),
    (b"<FreeFileSync XmlFormat='23'/>", "no XmlType"),
    (b"<FreeFileSync XmlType='GLOBAL' XmlFormat='27'/>", 'unsupported XmlType "GLOBAL"'),
    (b"<FreeFileSync XmlType='REAL' XmlFormat='1'/>", 'unsupported XmlType "REAL"'),
    (b"<FreeFileSync XmlType='GUI' XmlFormat='23'><FolderPairs/></FreeFileSync>",
     "no folder pairs"),
])
def test_bad_input_raises_a_clear_error(data, message):
    with pytest.raises(FfsImportError) as info:
        import_ffs(data, "job.ffs_batch")
    assert "job.ffs_batch" in str(info.value) and message in str(info.value)


def test_entity_bomb_is_refused_before_expansion():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + b"".join(f'<!ENTITY lol{i} "{"&lol{};".format(i - 1 if i > 1 else "") * 10}">'
                       .encode() for i in range(1, 10))
            + b']><FreeFileSync XmlType="GUI">&lol9;</FreeFileSync>')
    with pytest.raises(FfsImportError, match="DTDs and entities are refused"):
        import_ffs(bomb, "bomb.ffs_gui")


def test_external_entity_is_refused():
    data = (b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<FreeFileSync XmlType="GUI" XmlFormat="23">&x;</FreeFileSync>')
    with pytest.raises(FfsImportError, match="refused"):
        import_ffs(data, "x.ffs_gui")


def test_no_runnable_pair_is_an_error_naming_the_reasons():
    pairs = "<Pair><Left>ftp://u@h/a</Left><Right>/b</Right></Pair>"
    with pytest.raises(FfsImportError, match="no folder pair can run.*pair 1.*FTP"):
        import_ffs(ffs(pairs=pairs), "f.ffs_gui")


def test_missing_file_is_an_import_error(tmp_path):
    with pytest.raises(FfsImportError, match="cannot read"):
        import_ffs_file(tmp_path / "nope.ffs_batch")


# ----------------------------------------------------------------- saving

def test_save_as_syncjob_writes_pretty_utf8_json_atomically(tmp_path):
    imp = import_ffs_file(DATA / "current-custom.ffs_batch")
    out = tmp_path / "job.syncjob"
    out.write_text("old content")
    save_as_syncjob(imp, out)
    text = out.read_bytes().decode("utf-8")
    assert text.endswith("}\n") and text.startswith('{\n  "syncpane_job": 1,')
    assert json.loads(text) == imp.job
    assert [p.name for p in tmp_path.iterdir()] == ["job.syncjob"]  # no temp file left
    loaded = load_job(str(out))
    assert loaded.pairs[1].right.server_key == "alice@gpu.example.org:2222"


def test_save_keeps_non_ascii_readable(tmp_path):
    pairs = "<Pair><Left>/données</Left><Right>/微云</Right></Pair>"
    out = tmp_path / "j.syncjob"
    save_as_syncjob(import_ffs(ffs(pairs=pairs), "u.ffs_gui"), out)
    assert "/données" in out.read_text(encoding="utf-8")


def test_a_pairs_own_settings_replace_the_jobs_as_a_whole():
    body = ("<Compare><Variant>Content</Variant><IgnoreTimeShift>1</IgnoreTimeShift></Compare>"
            "<Synchronize><Variant>Mirror</Variant><DeletionPolicy>Permanent</DeletionPolicy>"
            "</Synchronize>")
    pairs = ("<Pair><Left>/a</Left><Right>/b</Right><Compare><Variant>Size</Variant></Compare>"
             "<Synchronize><DetectMovedFiles>true</DetectMovedFiles></Synchronize></Pair>")
    imp = import_ffs(ffs(body, pairs=pairs, fmt="17"), "p.ffs_gui")
    pair = imp.job["pairs"][0]
    # FreeFileSync's defaults fill what the pair leaves out; the job's values do not leak in.
    assert pair["compare"] == {"method": "size", "symlinks": "skip", "ignore_time_shift_hours": []}
    assert pair["sync"] == {"detect_moves": True, "variant": "two_way", "deletion": "recycle"}
    assert warned(imp, "pair 1/Synchronize", "two-way")
    job = job_from_dict(imp.job, "/tmp")
    assert job.pairs[0].compare.ignore_time_shift_hours == ()
    assert job.pairs[0].sync.deletion.value == "recycle"


def test_filter_items_that_cannot_match_are_reported_where_they_are():
    imp = import_ffs(ffs("<Filter><Exclude><Item>\\\\|*.bak</Item><Item>*.log:</Item></Exclude>"
                         "</Filter>"), "f.ffs_gui")
    assert imp.job["filter"]["exclude"] == ["*.[bB][aA][kK]", "*.[lL][oO][gG]"]
    assert warned(imp, "Filter/Exclude", "names nothing")
    assert warned(imp, "Filter/Exclude", "would keep such folders")
    assert not any("nothing" in w.message and "keep such folders" in w.message
                   for w in imp.warnings)


@pytest.mark.parametrize("phrase,location,key", [
    ("sftp://u@h/home/u/a@b", "sftp://u@h:22/home/u/a@b", "u@h:22"),
    ("sftp://me@corp@h:2022/x", "sftp://me%40corp@h:2022/x", "me@corp@h:2022"),
    ("sftp://u@h", "sftp://u@h:22/", "u@h:22"),
])
def test_sftp_addresses_with_at_signs_and_no_path(phrase, location, key):
    imp = import_ffs(ffs(pairs=f"<Pair><Left>/a</Left><Right>{phrase}|agent</Right></Pair>"),
                     "s.ffs_gui")
    assert imp.job["pairs"][0]["right"] == location
    assert list(imp.job["connections"]) == [key]
    job = job_from_dict(imp.job, "/tmp")
    assert job.pairs[0].right.user == key.rsplit("@", 1)[0]


def test_utf8_byte_order_mark_and_crlf_are_accepted():
    data = b"\xef\xbb\xbf" + ffs(pairs="<Pair><Left>/a</Left>\r\n<Right>/b</Right></Pair>")
    imp = import_ffs(data.replace(b"\n", b"\r\n"), "bom.ffs_gui")
    assert imp.job["pairs"] == [{"left": "/a", "right": "/b"}]


def test_importer_loads_neither_qt_nor_keyring():
    import subprocess
    import sys
    code = ("import sys, app.core.ffs_import; "
            "print(sorted(m for m in ('PySide6', 'keyring') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
