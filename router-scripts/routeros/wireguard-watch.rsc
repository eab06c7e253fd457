# Warden: WireGuard handshake watch (optional; RouterOS 7.12 or newer).
#
# RouterOS runs no script when a WireGuard peer connects or goes quiet, so Warden polls the
# peers over the API (every WIREGUARD_POLL_SECONDS). This script is the alternative for those who
# prefer the router to call Warden: the scheduler runs it every {WG_WATCH_INTERVAL} seconds, and for
# each enabled peer of {WG_INTERFACE} it POSTs {publicKey, endpoint, lastHandshakeSeconds} to
# Warden's handshake hook when
#   - the peer handshook since the previous run (a new connection, or WireGuard's rekey every
#     2 minutes; Warden ignores what changes nothing), or
#   - the last handshake just passed {WG_IDLE_SECONDS} seconds (the peer went quiet).
# Warden treats a report as a claim: it reads the peers over the API itself before it asks anyone
# or changes anything. Keep the API poll as the backstop for lost reports (raise
# WIREGUARD_POLL_SECONDS rather than relying on the script alone). {WG_IDLE_SECONDS} should equal
# Warden's WIREGUARD_IDLE_SECONDS.
#
# RouterOS 7 only (6.x has no WireGuard). `last-handshake` is a time value ("1m29s" in print) and
# absent when the peer never handshook; [:tonum] turns a time into seconds from 7.12 on, which is
# why the installer checks for it. Peers without a handshake are skipped. Nothing in the body needs
# JSON escaping: public keys are base64 and endpoint addresses are IPs, both from the router, and
# Warden validates every field again.
# A failed fetch is caught and logged; the next run reports again.
#
# Do not edit by hand: print a filled-in copy with Warden's router scripts command.
# wireguard-watch-setup.rsc installs this script (comments left out) and its scheduler entry.

:local hookUrl "{WARDEN_URL}/hooks/v1/routers/{ROUTER_NAME}/wireguard/handshake"
:local hookHeaders "Content-Type: application/json,Authorization: Bearer {HOOK_TOKEN}"
:local interval {WG_WATCH_INTERVAL}
:local idle {WG_IDLE_SECONDS}
:local slack 5

:foreach peer in=[/interface wireguard peers find where interface="{WG_INTERFACE}" disabled=no] do={
  :local peerHandshake
  :do {
    :set peerHandshake [/interface wireguard peers get $peer last-handshake]
  } on-error={}
  :if ([:typeof $peerHandshake] = "time") do={
    :local peerSeconds [:tonum $peerHandshake]
    :local fresh ($peerSeconds <= ($interval + $slack))
    :local wentQuiet (($peerSeconds > $idle) && ($peerSeconds <= ($idle + $interval + $slack)))
    :if ($fresh || $wentQuiet) do={
      :local peerKey [:tostr [/interface wireguard peers get $peer public-key]]
      :local peerEndpoint ""
      :do {
        :set peerEndpoint [:tostr [/interface wireguard peers get $peer current-endpoint-address]]
      } on-error={}
      :local body "{"
      :set body ($body . "\"publicKey\":\"" . $peerKey . "\",")
      :set body ($body . "\"endpoint\":\"" . $peerEndpoint . "\",")
      :set body ($body . "\"lastHandshakeSeconds\":" . $peerSeconds . "}")
      :do {
        /tool fetch url=$hookUrl http-method=post http-header-field=$hookHeaders http-data=$body output=none {FETCH_CHECK_CERTIFICATE}
      } on-error={
        :log warning ("warden: WireGuard handshake hook failed for " . $peerKey)
      }
    }
  }
}
