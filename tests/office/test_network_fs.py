"""SQLite on a network share is refused: the filesystem of the path is read from /proc/self/mountinfo (Linux)
or from a UNC path / GetDriveTypeW (Windows); here the detection is fed such text."""
from __future__ import annotations

import pytest

from app.core.errors import DatabaseError
from models import connection as conn

MOUNTINFO = r"""22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
40 27 0:35 / /srv/office rw,relatime - nfs4 192.168.1.5:/export/office rw,vers=4.2
41 27 0:36 / /mnt/share rw,relatime - cifs //nas/crm rw,vers=3.1.1
42 41 0:37 / /mnt/share/local rw,relatime - ext4 /dev/sdb1 rw
43 27 0:38 / /home/ali/remote rw,nosuid - fuse.sshfs ali@server:/data rw,user_id=1000
44 27 0:39 / /mnt/my\040drive rw,relatime - smb3 //nas/my rw
45 27 0:40 / /home/ali/Documents rw - ext4 /dev/sdc1 rw
46 27 0:41 / /run/user/1000/gvfs rw - fuse.gvfsd-fuse gvfsd-fuse rw
"""


@pytest.mark.parametrize("path, fs", [
    ("/srv/office/crm.sqlite3", "nfs4"),
    ("/srv/office", "nfs4"),
    ("/mnt/share/crm/crm.sqlite3", "cifs"),
    ("/mnt/share/local/crm.sqlite3", None),            # a local disk mounted inside the share
    ("/home/ali/remote/crm.sqlite3", "fuse.sshfs"),
    ("/mnt/my drive/crm.sqlite3", "smb3"),             # \040 in mountinfo is a space
    ("/run/user/1000/gvfs/smb-share:server=nas/crm.sqlite3", "fuse.gvfsd-fuse"),
    ("/home/ali/Documents/crm.sqlite3", None),
    ("/srv/office2/crm.sqlite3", None),                # a prefix of the name is not the mount point
    ("/tmp/crm.sqlite3", None),
])
def test_linux_mountinfo(path, fs):
    assert conn.network_filesystem(path, mountinfo=MOUNTINFO, platform="linux") == fs


def test_filesystem_of_picks_the_longest_mount():
    assert conn.filesystem_of("/mnt/share/local/x", MOUNTINFO) == "ext4"
    assert conn.filesystem_of("/mnt/share/x", MOUNTINFO) == "cifs"


@pytest.mark.parametrize("path, remote_drives, fs", [
    (r"\\server\share\crm.sqlite3", "", "unc"),
    ("//server/share/crm.sqlite3", "", "unc"),
    (r"\\?\UNC\server\share\crm.sqlite3", "", "unc"),
    (r"Z:\crm\crm.sqlite3", "Z", "network drive"),
    (r"z:\crm\crm.sqlite3", "Z", "network drive"),
    (r"C:\Users\ali\crm.sqlite3", "Z", None),
    (r"\\?\C:\crm.sqlite3", "Z", None),
    ("crm.sqlite3", "Z", None),
])
def test_windows_paths(path, remote_drives, fs):
    asked = []

    def drive_type(root):
        asked.append(root)
        return conn.DRIVE_REMOTE if root[0] in remote_drives else 3     # 3: DRIVE_FIXED

    assert conn.network_filesystem(path, platform="win32", drive_type=drive_type) == fs
    if fs == "network drive":
        assert asked == [path[0].upper() + ":\\"]


def test_opening_sqlite_on_a_share_is_refused_with_nothing_made(tmp_path, monkeypatch):
    real = conn.network_filesystem
    share = str(tmp_path / "share")
    fake = MOUNTINFO + f"50 27 0:50 / {share} rw - cifs //nas/crm rw\n"
    monkeypatch.setattr(conn, "network_filesystem",
                        lambda path, **kw: real(path, mountinfo=fake, platform="linux"))
    (tmp_path / "share").mkdir()
    target = tmp_path / "share" / "crm.sqlite3"
    with pytest.raises(DatabaseError) as e:
        conn.open_database(str(target), create=True)
    assert "شبکه" in e.value.message and "cifs" in e.value.message and "PostgreSQL" in e.value.message
    assert "SMB/NFS" in e.value.en
    assert not target.exists()
    # a local folder beside it opens
    url = conn.open_database(str(tmp_path / "local.sqlite3"), create=True)
    assert url.endswith("local.sqlite3")
    conn.close_database()
    # the office may lift the refusal knowingly (one desk only)
    monkeypatch.setenv("CRM_ALLOW_NETWORK_SQLITE", "1")
    conn.open_database(str(target), create=True)
    conn.close_database()
    assert target.exists()


def test_this_machine_reads_its_own_mountinfo(tmp_path):
    # the test folder is on a local disk here: the real /proc/self/mountinfo is read without error
    assert conn.network_filesystem(tmp_path) is None
