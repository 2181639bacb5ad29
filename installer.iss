; Syncpane for Windows: Inno Setup 6 script.
;
; Compile (from the repository root, after packaging\build.ps1 made dist\Syncpane):
;   ISCC /DDistDir=dist\Syncpane /DAppVersion=0.1.0 installer.iss
; Both defines are optional: DistDir defaults to dist\Syncpane next to this file,
; AppVersion to the version stamped into dist\Syncpane\Syncpane.exe, else 0.0.0.
; The setup lands in dist\installer\Syncpane-<version>-setup.exe
; (override the folder with /DOutputDir=..., the name with /DOutputBase=...).
;
; Behaviour worth knowing:
; - Per-user install by default ({localappdata}\Programs\Syncpane, no admin);
;   the first page lets the person pick "all users" instead (asks for admin).
; - AppId below never changes: a newer setup upgrades the installed copy in place.
; - AppMutex: the app creates the mutex "SyncpaneAppMutex" (and "Global\SyncpaneAppMutex")
;   at start-up, see app/instance.py; setup and uninstall ask to close it first.
; - The uninstaller removes the program, shortcuts, file association and the
;   tray autostart entry. It leaves the person's jobs (*.syncjob wherever they
;   saved them) and the app's settings and state in %LOCALAPPDATA%\Syncpane alone.

#define AppName "Syncpane"
#define AppExeName "Syncpane.exe"
#define CliExeName "syncpane-cli.exe"
#define JobExt ".syncjob"
#define JobProgId "Syncpane.Job"

#ifndef DistDir
  #define DistDir AddBackslash(SourcePath) + "dist\Syncpane"
#endif
#ifndef AppVersion
  #if FileExists(AddBackslash(DistDir) + AppExeName)
    #define StampedVersion GetVersionNumbersString(AddBackslash(DistDir) + AppExeName)
    #if StampedVersion != "" && StampedVersion != "0.0.0.0"
      #define AppVersion StampedVersion
    #endif
  #endif
#endif
#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef OutputBase
  #define OutputBase "Syncpane-" + AppVersion + "-setup"
#endif
#ifndef OutputDir
  #define OutputDir AddBackslash(SourcePath) + "dist\installer"
#endif

; CI compiles this script on Linux against the Linux bundle (programs without
; .exe) to prove it compiles; /DForeignBundle=1 allows that. Never ship such a setup.
#ifndef ForeignBundle
  #if !FileExists(AddBackslash(DistDir) + AppExeName)
    #error The bundle is missing: no Syncpane.exe in DistDir. Build it first (packaging\build.ps1) or pass /DDistDir=<folder>
  #endif
#endif

[Setup]
; Stable identity of the product: never change it, upgrades depend on it.
AppId={{7C1E5B1A-3F0D-4E8B-9A57-5D2C6B0E41F3}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Syncpane
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
UninstallDisplayIcon={app}\{#AppExeName}
UninstallDisplayName={#AppName}
; Per-user by default; the person may choose all users (then admin is needed).
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
; Close a running Syncpane before files are replaced or removed.
AppMutex=SyncpaneAppMutex,Global\SyncpaneAppMutex
CloseApplications=yes
RestartApplications=no
ChangesAssociations=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
WizardStyle=modern
OutputDir={#OutputDir}
OutputBaseFilename={#OutputBase}
#if FileExists(AddBackslash(SourcePath) + "resources\syncpane.ico")
SetupIconFile=resources\syncpane.ico
#endif
; Fast to compile (CI builds it on every run); the size cost over solid lzma2/max is small.
Compression=lzma2/fast
SolidCompression=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "trayatlogin"; Description: "Start Syncpane in the system tray when I sign in"; GroupDescription: "Startup:"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the whole bundle: libraries a newer build no longer ships
; must not linger beside the new ones.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; Tasks: desktopicon

[Registry]
; The .syncjob file type. HKA is HKCU for a per-user install, HKLM for all users.
Root: HKA; Subkey: "Software\Classes\{#JobExt}"; ValueType: string; ValueName: ""; ValueData: "{#JobProgId}"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\{#JobExt}\OpenWithProgids"; ValueType: string; ValueName: "{#JobProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\{#JobProgId}"; ValueType: string; ValueName: ""; ValueData: "Syncpane job"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#JobProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExeName}"",0"
Root: HKA; Subkey: "Software\Classes\{#JobProgId}\shell"; ValueType: string; ValueName: ""; ValueData: "open"
Root: HKA; Subkey: "Software\Classes\{#JobProgId}\shell\open"; ValueType: string; ValueName: ""; ValueData: "&Open in Syncpane"
Root: HKA; Subkey: "Software\Classes\{#JobProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExeName}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\{#JobProgId}\shell\runsync"; ValueType: string; ValueName: ""; ValueData: "&Run sync"
Root: HKA; Subkey: "Software\Classes\{#JobProgId}\shell\runsync"; ValueType: string; ValueName: "Icon"; ValueData: """{app}\{#AppExeName}"",0"
Root: HKA; Subkey: "Software\Classes\{#JobProgId}\shell\runsync\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExeName}"" ""%1"" --run"
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExeName}\SupportedTypes"; ValueType: string; ValueName: "{#JobExt}"; ValueData: ""; Flags: uninsdeletekey
; Tray at sign-in: always the signed-in person's own Run key (HKCU), so an
; all-users install still starts the tray only for the person who asked.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "{#AppName}"; ValueData: """{app}\{#AppExeName}"" tray"; Tasks: trayatlogin; Flags: uninsdeletevalue

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only what the app writes inside its own program folder (nothing by design);
; %LOCALAPPDATA%\Syncpane (settings, last-sync state, logs) and the person's
; job files are deliberately left in place.
Type: dirifempty; Name: "{app}"

[Code]
const
  RunKey = 'Software\Microsoft\Windows\CurrentVersion\Run';

// The tray's own "Start at login" toggle writes the same Run value as the
// trayatlogin task. An upgrade leaves it as the person set it; uninstalling
// removes it whichever side wrote it, as long as it points at this copy.
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Command: String;
begin
  if (CurUninstallStep = usUninstall) and
     RegQueryStringValue(HKEY_CURRENT_USER, RunKey, '{#AppName}', Command) and
     (Pos(Lowercase(ExpandConstant('{app}')), Lowercase(Command)) > 0) then
    RegDeleteValue(HKEY_CURRENT_USER, RunKey, '{#AppName}');
end;
