# Warden: PPP profile on-up script.
#
# What it does, in order:
#   1. removes the client's session address from the permit list (fail closed: an entry left
#      behind by a crash or reboot must never let a new session through unapproved);
#   2. puts the address in the sandbox list (comment "warden:sandbox:<user>");
#   3. POSTs the session claim to Warden's up hook. Warden checks the claim against /ppp active
#      and the sandbox list over the RouterOS API, asks the owner in chat, and on approval adds
#      the address to the permit list itself, over the API. This script never grants access.
# If Warden cannot be reached the fetch error is caught and logged, PPP is not disturbed and the
# client simply stays sandboxed.
#
# Runs on RouterOS 6.45 and newer 6.x (long-term 6.48/6.49 included) and on 7.x.
# It uses only what both lines have: /tool fetch with http-method, http-data, http-header-field
# and output=none; :do {} on-error={}; functions in local variables (:local f do={}, 6.2+);
# menu paths written with spaces (/ip firewall address-list), which 7.x still accepts. It avoids
# :serialize (7.13+), :convert (7.11+), :onerror and slash paths, which 6.x lacks.
# check-certificate=yes is set when Warden's URL is https: the router must then trust the CA
# that signed Warden's certificate (see docs/ROUTER-SETUP.md). For plain http on a LAN there is
# nothing to check and the option is left out.
#
# Do not edit by hand: print a filled-in copy with `npm run cli -- router scripts <name>`.
# setup.rsc installs this script into the PPP profile's on-up field.

:local hookUrl "{WARDEN_URL}/hooks/v1/routers/{ROUTER_NAME}/ppp/up"
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
  :if ([:len [/ip firewall address-list find where list="{SANDBOX_LIST}" address=$pppAddress]] = 0) do={
    :do {
      /ip firewall address-list add list="{SANDBOX_LIST}" address=$pppAddress comment=("warden:sandbox:" . $pppUser)
    } on-error={
      :log warning ("warden: could not add " . $pppAddress . " to {SANDBOX_LIST}")
    }
  }
} else={
  :log warning ("warden: ppp up for " . $pppUser . " without a remote address")
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
  :log info ("warden: up hook sent for " . $pppUser . " " . $pppAddress)
} on-error={
  :log warning ("warden: up hook failed for " . $pppUser . " " . $pppAddress . ", client stays sandboxed")
}
