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

    def connection_settings(self, loc: Location) -> ConnectionSettings:
        return self.job.connections.get(loc.server_key or "", ConnectionSettings(auth="agent"))

    async def open(self, loc: Location) -> FileSystem:
        if not loc.is_sftp:
            fs = LocalFS(loc.path, display=loc.display, parallel=self.job.parallel_local)
            await fs.open()
            return fs
        return await self._open_sftp(loc)

    async def _open_sftp(self, loc: Location) -> FileSystem:
        from app.fs.sftp_open import open_sftp_location

        if self._sftp_pool is None:
            from app.fs.sftp_open import new_pool

            self._sftp_pool = new_pool()
        return await open_sftp_location(loc, self.connection_settings(loc), self._sftp_pool,
                                        credentials=self.credentials,
                                        accept_new_host_key=self.accept_new_host_key,
                                        host_key_prompt=self.host_key_prompt)

    async def close(self) -> None:
        if self._sftp_pool is not None:
            await self._sftp_pool.close_all()
            self._sftp_pool = None
