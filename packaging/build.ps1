<#
.SYNOPSIS
  Build the Syncpane bundle on Windows (dist\Syncpane\ with Syncpane.exe and
  syncpane-cli.exe) and, with -Installer, the setup program.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File packaging\build.ps1
  powershell -ExecutionPolicy Bypass -File packaging\build.ps1 -Installer
  powershell -ExecutionPolicy Bypass -File packaging\build.ps1 -Python C:\Python312\python.exe

  PyInstaller is installed from PyPI when missing, and the app's dependencies
  when they cannot be imported. -Installer needs Inno Setup 6 (ISCC.exe on PATH,
  in its default folder, or given with -Iscc); the setup lands in dist\installer\.
#>
param(
    [string]$Python = "python",
    [switch]$Installer,
    [string]$Iscc = ""
)

$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)

function Invoke-Checked {
    param([string]$What, [scriptblock]$Block)
    & $Block
    if ($LASTEXITCODE -ne 0) { throw "build.ps1: $What failed (exit code $LASTEXITCODE)" }
}

function Test-Import {
    param([string]$Modules)
    # Windows PowerShell turns a native program's stderr into an error under
    # "Stop": probe with "Continue" and judge by the exit code alone.
    $saved = $ErrorActionPreference
    $ErrorActionPreference = "Continue"
    try { & $Python -c "import $Modules" 2>&1 | Out-Null; return ($LASTEXITCODE -eq 0) }
    finally { $ErrorActionPreference = $saved }
}

if (-not (Test-Import "PyInstaller")) {
    Write-Host "build.ps1: installing pyinstaller>=6.6"
    Invoke-Checked "pip install pyinstaller" { & $Python -m pip install -q --disable-pip-version-check "pyinstaller>=6.6" }
}
if (-not (Test-Import "PySide6.QtWidgets, asyncssh, platformdirs, keyring, pathspec, send2trash")) {
    Write-Host "build.ps1: installing the app's dependencies (pip install -e .)"
    Invoke-Checked "pip install -e ." { & $Python -m pip install -q --disable-pip-version-check -e . }
}

$version = (& $Python -c "import app; print(app.__version__)").Trim()

if (-not (Test-Path "resources\syncpane.ico")) {
    Invoke-Checked "make_icon.py" { & $Python packaging\make_icon.py }
}

Invoke-Checked "PyInstaller" {
    & $Python -m PyInstaller packaging\syncpane.spec --noconfirm --distpath dist --workpath build\pyinstaller --log-level WARN
}

foreach ($exe in @("Syncpane.exe", "syncpane-cli.exe")) {
    if (-not (Test-Path "dist\Syncpane\$exe")) { throw "build.ps1: dist\Syncpane\$exe is missing" }
}
$got = (& dist\Syncpane\syncpane-cli.exe --version | Out-String).Trim()
if ($got -ne "syncpane $version") { throw "build.ps1: the bundle says '$got', expected 'syncpane $version'" }
Write-Host "build.ps1: dist\Syncpane\ ready: $got"

if ($Installer) {
    if (-not $Iscc) {
        $onPath = Get-Command ISCC.exe -ErrorAction SilentlyContinue
        $candidates = @()
        if ($onPath) { $candidates += $onPath.Source }
        $candidates += "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe", "$env:ProgramFiles\Inno Setup 6\ISCC.exe", "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe"
        $Iscc = $candidates | Where-Object { $_ -and (Test-Path $_) } | Select-Object -First 1
        if (-not $Iscc) { throw "build.ps1: ISCC.exe (Inno Setup 6) not found; install it or pass -Iscc <path>" }
    }
    Invoke-Checked "ISCC" { & $Iscc /Q "/DDistDir=$PWD\dist\Syncpane" "/DAppVersion=$version" installer.iss }
    $setup = "dist\installer\Syncpane-$version-setup.exe"
    if (-not (Test-Path $setup)) { throw "build.ps1: ISCC ran but $setup did not appear" }
    Write-Host "build.ps1: $setup ready"
}
