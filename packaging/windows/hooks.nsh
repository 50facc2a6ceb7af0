; Pispas local service: NSIS installer hooks (bundle.windows.nsis.installerHooks).
; The installer runs per machine (elevated), so the hosts file can be written: local.unpispas.es
; points at this till and wss://local.unpispas.es:5005 matches the production certificate. The
; same program the shortcut starts does the edit (`--platform hosts-add`), so the installer and
; the configurator write the same marked line, and uninstalling removes exactly that line.

!macro NSIS_HOOK_POSTINSTALL
  DetailPrint "Adding local.unpispas.es to the hosts file"
  nsExec::ExecToLog '"$INSTDIR\pispas.exe" --platform hosts-add'
  Pop $0
  ${If} $0 != 0
    DetailPrint "Could not add local.unpispas.es to the hosts file (the configurator can)"
  ${EndIf}
!macroend

!macro NSIS_HOOK_PREUNINSTALL
  DetailPrint "Removing local.unpispas.es from the hosts file"
  nsExec::ExecToLog '"$INSTDIR\pispas.exe" --platform hosts-remove'
  Pop $0
!macroend
