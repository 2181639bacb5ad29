"""Turning a job's locations into open filesystems."""

from __future__ import annotations

from app.core.job import ConnectionSettings, Job
from app.core.location import Location
from app.fs.base import FileSystem
from app.fs.local import LocalFS


class LocationOpener:
    """Creates one filesystem per location; SFTP locations of one server share
    one connection (the pool lives as long as the opener)."""

    def __init__(self, job: Job, *, accept_new_host_key: bool = False,
                 credentials=None, host_key_prompt=None) -> None:
        self.job = job
        self.accept_new_host_key = accept_new_host_key
        self.credentials = credentials
        self.host_key_prompt = host_key_prompt
        self._sftp_pool = None
        self._prepared: dict[int, FileSystem] = {}  # id(location) -> not yet opened

    def connection_settings(self, loc: Location) -> ConnectionSettings:
        return self.job.connections.get(loc.server_key or "", ConnectionSettings(auth="agent"))

    async def open(self, loc: Location) -> FileSystem:
        if not loc.is_sftp:
            fs = LocalFS(loc.path, display=loc.display, parallel=self.job.parallel_local)
            await fs.open()
            return fs
        return await self._open_sftp(loc)

    def prepare_sftp(self, loc: Location) -> FileSystem | None:
        """The filesystem of a server location, made but not opened, so it can
        log in and list before :meth:`open` (which then opens this very one)."""
        if not loc.is_sftp:
            return None
        fs = self._prepared.get(id(loc))
        if fs is None:
            from app.fs.sftp_open import new_pool, new_sftp_fs

            if self._sftp_pool is None:
                self._sftp_pool = new_pool()
            fs = new_sftp_fs(loc, self.connection_settings(loc), self._sftp_pool,
                             credentials=self.credentials,
                             accept_new_host_key=self.accept_new_host_key)
            self._prepared[id(loc)] = fs
        return fs

    async def _open_sftp(self, loc: Location) -> FileSystem:
        from app.fs.sftp_open import open_sftp_fs

        fs = self.prepare_sftp(loc)
        del self._prepared[id(loc)]
        return await open_sftp_fs(fs, self.host_key_prompt)

    async def close(self) -> None:
        self._prepared.clear()
        if self._sftp_pool is not None:
            await self._sftp_pool.close_all()
            self._sftp_pool = None
