# Warden: installs the WireGuard handshake watch (optional; RouterOS 7.12 or newer).
#
# Adds wireguard-watch.rsc (comments left out) as the script warden-wireguard-watch and a
# scheduler entry of the same name that runs it every {WG_WATCH_INTERVAL} seconds. Run it with
# /import or paste it into a terminal. Safe to run again: both are replaced. It is one block, so it
# stops at the first error; the checks come first, so a refused run changes nothing.
# To remove the watch:
#   /system scheduler remove [find where name="warden-wireguard-watch"]
#   /system script remove [find where name="warden-wireguard-watch"]
#
# Policies: read (the peers), write and test (/tool fetch in a script needs both). The script reads
# no secrets and changes no configuration.

{
  # --- Checks (nothing is changed before they pass) ------------------------------------------
  :local canCount false
  :do {
    :set canCount ([:tonum 00:01:00] = 60)
  } on-error={}
  :if (!$canCount) do={
    :error "warden: this RouterOS cannot count a time in seconds with :tonum, the WireGuard watch needs 7.12 or newer"
  }
  :local wgInterfaces ""
  :do {
    :set wgInterfaces [/interface wireguard find where name="{WG_INTERFACE}"]
  } on-error={
    :error "warden: this router has no WireGuard (RouterOS 7 or newer needed)"
  }
  :if ([:len $wgInterfaces] = 0) do={
    :error "warden: WireGuard interface {WG_INTERFACE} does not exist"
  }

  # --- Script and scheduler --------------------------------------------------------------------
  /system scheduler remove [find where name="warden-wireguard-watch"]
  /system script remove [find where name="warden-wireguard-watch"]
  /system script add name="warden-wireguard-watch" policy=read,write,test comment="warden: WireGuard handshake watch" source="{WG_WATCH_SOURCE}"
  /system scheduler add name="warden-wireguard-watch" interval={WG_WATCH_INTERVAL}s policy=read,write,test on-event="/system script run warden-wireguard-watch" comment="warden: runs the WireGuard handshake watch"

  :put "warden: WireGuard handshake watch installed for {WG_INTERFACE} on router {ROUTER_NAME}, every {WG_WATCH_INTERVAL} seconds."
}
