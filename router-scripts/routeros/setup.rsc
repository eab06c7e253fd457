# Warden: one-time router setup (safe to run again).
#
# Run it with /import (upload the file first) or paste it into a terminal. It is one block, so
# it stops at the first error; the checks come first, so a refused run changes nothing.
# Re-running is safe: Warden's own firewall rules (comment "warden: ...") and chat-list entries
# (comment "warden:chat:...") are removed and added again, the API group/user are updated in
# place, and the PPP profile scripts are replaced.
#
# Works on RouterOS 6.45 and newer 6.x (long-term 6.48/6.49 included) and on 7.x:
#   - menu paths are written with spaces (/ip firewall filter), which 7.x still accepts;
#     slash paths (/ip/firewall/filter) would be 7.x only;
#   - address lists take DNS names as addresses on both lines (the router resolves them and
#     adds the resulting IPs as dynamic entries);
#   - the user group gets only read, write and api, which exist on both lines (7.x adds rest-api,
#     not needed here);
#   - the PPP scripts are stored inline in the profile's on-up/on-down fields, where $user,
#     $"caller-id", $"remote-address", $"local-address" and $interface are defined. A
#     /system script called from the profile would not see those variables on either line.
# Not covered: IPv6. If the profile hands out IPv6 to VPN clients, filter that traffic yourself.
#
# Address lists used by Warden (RouterOS creates a list when its first entry is added):
#   {SANDBOX_LIST}  session addresses waiting for the owner's decision; filled by the on-up script,
#                   cleared by the on-down script. Warden reads it to verify a claim.
#   {PERMIT_LIST}   approved session addresses; only Warden adds entries (over the API). The
#                   on-up and on-down scripts remove the session's entry.
#   {BAN_LIST}      caller public IPs banned after a deny, a timeout or too many attempts; Warden
#                   adds them with a timeout, so the router lifts each ban by itself.
#   {CHAT_LIST}     chat platforms a sandboxed client may reach so its owner can approve from the
#                   same device: Telegram's published IPv4 ranges and the platforms' DNS names.
#
# Print a filled-in copy with `npm run cli -- router scripts <name>`; see docs/ROUTER-SETUP.md.

{
  # A profile script is taken to be Warden's when it starts like ppp-on-up.rsc/ppp-on-down.rsc
  # (comments left out) and calls a Warden hook. Anything else there is the admin's: refuse.
  :local wardenStart ":local hookUrl \""
  :local wardenMarker "/hooks/v1/routers/"

  # --- 0. Checks (nothing is changed before they pass) -------------------------------------
  :local rosVersion [/system resource get version]
  :local dot [:find $rosVersion "."]
  :local rosMajor [:tonum [:pick $rosVersion 0 $dot]]
  :local minorText ""
  :local pos ($dot + 1)
  :while (($pos < [:len $rosVersion]) && ([:typeof [:find "0123456789" [:pick $rosVersion $pos]]] = "num")) do={
    :set minorText ($minorText . [:pick $rosVersion $pos])
    :set pos ($pos + 1)
  }
  :local rosMinor [:tonum $minorText]
  :if (($rosMajor < 6) || (($rosMajor = 6) && ($rosMinor < 45))) do={
    :error ("warden: RouterOS " . $rosVersion . " is too old, Warden needs 6.45 or newer")
  }

  :local profile [/ppp profile find where name="{PPP_PROFILE}"]
  :if ([:len $profile] = 0) do={
    :error "warden: PPP profile {PPP_PROFILE} does not exist, create it first"
  }
  :local currentUp [/ppp profile get $profile on-up]
  :local currentDown [/ppp profile get $profile on-down]
  :if ([:len $currentUp] > 0) do={
    :local startAt [:find $currentUp $wardenStart]
    :local isWarden false
    :if ([:typeof $startAt] = "num") do={
      :if (($startAt = 0) && ([:typeof [:find $currentUp $wardenMarker]] = "num")) do={
        :set isWarden true
      }
    }
    :if (!$isWarden) do={
      :error "warden: PPP profile {PPP_PROFILE} already has an on-up script that is not Warden's, merge it by hand (docs/ROUTER-SETUP.md)"
    }
  }
  :if ([:len $currentDown] > 0) do={
    :local startAt [:find $currentDown $wardenStart]
    :local isWarden false
    :if ([:typeof $startAt] = "num") do={
      :if (($startAt = 0) && ([:typeof [:find $currentDown $wardenMarker]] = "num")) do={
        :set isWarden true
      }
    }
    :if (!$isWarden) do={
      :error "warden: PPP profile {PPP_PROFILE} already has an on-down script that is not Warden's, merge it by hand (docs/ROUTER-SETUP.md)"
    }
  }

  :local existingUser [/user find where name="{API_USER}"]
  :if ([:len $existingUser] > 0) do={
    :if ([/user get $existingUser group] = "full") do={
      :error "warden: user {API_USER} is in group full, pick another name for Warden's API user"
    }
  }

  # --- 1. Chat platform allow list ---------------------------------------------------------
  # Telegram's published IPv4 ranges (core.telegram.org/resources/cidr.txt) plus 95.161.64.0/20,
  # which Telegram also announces. Admins may add their own entries to the list: only entries
  # with a "warden:chat:" comment are replaced on a re-run.
  /ip firewall address-list remove [find where list="{CHAT_LIST}" comment~"^warden:chat:"]
  :foreach cidr in={"91.105.192.0/23";"91.108.4.0/22";"91.108.8.0/22";"91.108.12.0/22";"91.108.16.0/22";"91.108.20.0/22";"91.108.56.0/22";"95.161.64.0/20";"149.154.160.0/20";"185.76.151.0/24"} do={
    :if ([:len [/ip firewall address-list find where list="{CHAT_LIST}" address=$cidr]] = 0) do={
      /ip firewall address-list add list="{CHAT_LIST}" address=$cidr comment="warden:chat:telegram"
    }
  }
  :foreach host in={"api.telegram.org";"telegram.org"} do={
    :if ([:len [/ip firewall address-list find where list="{CHAT_LIST}" address=$host]] = 0) do={
      /ip firewall address-list add list="{CHAT_LIST}" address=$host comment="warden:chat:telegram"
    }
  }
  :foreach host in={"discord.com";"gateway.discord.gg";"cdn.discordapp.com";"discord.gg"} do={
    :if ([:len [/ip firewall address-list find where list="{CHAT_LIST}" address=$host]] = 0) do={
      /ip firewall address-list add list="{CHAT_LIST}" address=$host comment="warden:chat:discord"
    }
  }

  # --- 2. Firewall ---------------------------------------------------------------------------
{VPN_POOL_NOTE}
  /ip firewall raw remove [find where comment~"^warden:"]
  /ip firewall filter remove [find where comment~"^warden:"]

  # Banned callers are dropped in raw prerouting, before connection tracking: they cannot even
  # start a new tunnel until the ban's timeout ends.
  :local rawRules [/ip firewall raw find where dynamic=no]
  :if ([:len $rawRules] > 0) do={
    /ip firewall raw add chain=prerouting src-address-list="{BAN_LIST}" action=drop comment="warden: drop banned VPN callers" place-before=[:pick $rawRules 0]
  } else={
    /ip firewall raw add chain=prerouting src-address-list="{BAN_LIST}" action=drop comment="warden: drop banned VPN callers"
  }

  # Warden's filter rules go above every existing static rule, in this order. A disabled
  # placeholder rule gives an anchor when the filter table is empty; it is removed afterwards.
  :local tempAnchor false
  :if ([:len [/ip firewall filter find where dynamic=no]] = 0) do={
    /ip firewall filter add chain=forward action=passthrough disabled=yes comment="warden: temporary anchor"
    :set tempAnchor true
  }
  :local anchor [:pick [/ip firewall filter find where dynamic=no] 0]
  /ip firewall filter add chain=input src-address={VPN_POOL} protocol=udp dst-port=53 action=accept comment="warden: VPN pool DNS to router (udp)" place-before=$anchor
  /ip firewall filter add chain=input src-address={VPN_POOL} protocol=tcp dst-port=53 action=accept comment="warden: VPN pool DNS to router (tcp)" place-before=$anchor
  /ip firewall filter add chain=input src-address={VPN_POOL} action=drop comment="warden: VPN pool to router, everything else" place-before=$anchor
  /ip firewall filter add chain=forward src-address={VPN_POOL} src-address-list="{PERMIT_LIST}" action=accept comment="warden: approved VPN sessions" place-before=$anchor
  /ip firewall filter add chain=forward src-address={VPN_POOL} dst-address-list="{CHAT_LIST}" action=accept comment="warden: sandboxed VPN sessions to chat platforms" place-before=$anchor
  /ip firewall filter add chain=forward src-address={VPN_POOL} action=drop comment="warden: sandboxed VPN sessions, everything else" place-before=$anchor
  :if ($tempAnchor) do={
    /ip firewall filter remove $anchor
  }

  # --- 3. Warden's RouterOS API account ------------------------------------------------------
  # read:  print /ppp active, /interface and the address lists (to verify a claim);
  # write: add/remove address-list entries (permit, ban) and remove /ppp active sessions;
  # api:   log in over the API (api or api-ssl).
  # Nothing else: no test (Warden runs no ping/fetch on the router), no sensitive (it never reads
  # secrets), no policy, password, reboot, ftp, ssh, telnet, winbox, web, sniff or romon.
  :if ([:len [/user group find where name="{API_GROUP}"]] = 0) do={
    /user group add name="{API_GROUP}" policy=read,write,api
  } else={
    /user group set [find where name="{API_GROUP}"] policy=read,write,api
  }
  # The user is created disabled and without a password, so no secret ends up in this file.
  :if ([:len $existingUser] = 0) do={
    :do {
      /user add name="{API_USER}" group="{API_GROUP}" address={WARDEN_ADDRESS} disabled=yes comment="warden: RouterOS API user"
      :put "warden: created user {API_USER}, disabled. Give it a long random password and enable it: /user set {API_USER} password=... disabled=no"
    } on-error={
      :put "warden: could not create user {API_USER}, create it by hand (docs/ROUTER-SETUP.md)"
    }
  } else={
    /user set $existingUser group="{API_GROUP}" address={WARDEN_ADDRESS}
  }
  # Only Warden's host may reach the API services. This replaces any address list already set
  # on them: add other API clients' addresses by hand if you have any.
  /ip service set [find where name="api"] address={WARDEN_ADDRESS}
  /ip service set [find where name="api-ssl"] address={WARDEN_ADDRESS}
  :if (([/ip service get [find where name="api"] disabled]) && ([/ip service get [find where name="api-ssl"] disabled])) do={
    :put "warden: api and api-ssl are both disabled. Enable one for Warden, preferably api-ssl (needs a certificate): /ip service enable api-ssl"
  }

  # --- 4. PPP profile hooks ------------------------------------------------------------------
  # The on-up and on-down scripts (ppp-on-up.rsc, ppp-on-down.rsc, comments left out) are stored
  # inline so that they run with the PPP session's variables in scope.
  /ppp profile set $profile on-up="{ON_UP_SOURCE}" on-down="{ON_DOWN_SOURCE}"

  :put "warden: setup done for router {ROUTER_NAME}. Next: the API user's password, then one test client (docs/ROUTER-SETUP.md)."
}
