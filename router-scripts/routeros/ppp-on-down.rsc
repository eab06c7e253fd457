# Warden: PPP profile on-down script.
#
# What it does, in order:
#   1. removes the session address from the sandbox list and from the permit list right here on
#      the router, so access ends with the session even when Warden is unreachable;
#   2. POSTs the same claim as the up hook to Warden's down hook, so Warden can close the session
#      (and stop waiting for a decision). Everything else Warden does to address lists (permit,
#      ban) goes through the RouterOS API, not through this script.
# A failed fetch is caught and logged; it never disturbs PPP.
#
# Runs on RouterOS 6.45 and newer 6.x and on 7.x, for the same reasons as ppp-on-up.rsc:
# /tool fetch http-method/http-data/http-header-field/output=none, :do {} on-error={},
# :local functions, space-separated menu paths; no :serialize (7.13+) or other 7.x-only syntax.
# check-certificate=yes is set when Warden's URL is https; for plain http it is left out.
#
# Do not edit by hand: print a filled-in copy with `npm run cli -- router scripts <name>`.
# setup.rsc installs this script into the PPP profile's on-down field.

:local hookUrl "{WARDEN_URL}/hooks/v1/routers/{ROUTER_NAME}/ppp/down"
:local hookHeaders "Content-Type: application/json,Authorization: Bearer {HOOK_TOKEN}"

:local jsonEscape do={
  :local s [:tostr $1]
  :local out ""
  :local i 0
  :while ($i < [:len $s]) do={
    :local c [:pick $s $i]
    :if (($c = "\"") || ($c = "\\")) do={
      :set out ($out . "\\" . $c)
    } else={
      :if ($c = "\n") do={
        :set out ($out . "\\n")
      } else={
        :if ($c = "\r") do={
          :set out ($out . "\\r")
        } else={
          :if ($c = "\t") do={
            :set out ($out . "\\t")
          } else={
            :set out ($out . $c)
          }
        }
      }
    }
    :set i ($i + 1)
  }
  :return $out
}

:local pppUser [:tostr $user]
:local pppCaller [:tostr $"caller-id"]
:local pppAddress [:tostr $"remote-address"]
:local pppLocal [:tostr $"local-address"]

# The interface and the /ppp active row are usually gone by now; both stay empty then.
:local pppInterface ""
:do {
  :set pppInterface [/interface get $interface name]
} on-error={}

:local pppService ""
:do {
  :local svc [/ppp active get [:pick [/ppp active find where address=$"remote-address"] 0] service]
  :if (($svc = "l2tp") || ($svc = "sstp") || ($svc = "pptp") || ($svc = "ovpn") || ($svc = "pppoe")) do={
    :set pppService $svc
  }
} on-error={}

:if ([:len $pppAddress] > 0) do={
  :do {
    /ip firewall address-list remove [find where list="{PERMIT_LIST}" address=$pppAddress]
  } on-error={
    :log warning ("warden: could not clear " . $pppAddress . " from {PERMIT_LIST}")
  }
  :do {
    /ip firewall address-list remove [find where list="{SANDBOX_LIST}" address=$pppAddress]
  } on-error={
    :log warning ("warden: could not clear " . $pppAddress . " from {SANDBOX_LIST}")
  }
}

:local body "{"
:set body ($body . "\"user\":\"" . [$jsonEscape $pppUser] . "\",")
:set body ($body . "\"callerId\":\"" . [$jsonEscape $pppCaller] . "\",")
:set body ($body . "\"address\":\"" . [$jsonEscape $pppAddress] . "\",")
:set body ($body . "\"localAddress\":\"" . [$jsonEscape $pppLocal] . "\",")
:set body ($body . "\"interface\":\"" . [$jsonEscape $pppInterface] . "\",")
:set body ($body . "\"service\":\"" . [$jsonEscape $pppService] . "\"}")

:do {
  /tool fetch url=$hookUrl http-method=post http-header-field=$hookHeaders http-data=$body output=none {FETCH_CHECK_CERTIFICATE}
  :log info ("warden: down hook sent for " . $pppUser . " " . $pppAddress)
} on-error={
  :log warning ("warden: down hook failed for " . $pppUser . " " . $pppAddress)
}
