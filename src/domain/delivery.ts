// Sending a device's configuration to its owner, in their private chats only: a WireGuard .conf
// file plus a QR code of the same text, or PPP credentials with short setup steps. Secrets are
// decrypted only here, at the moment of sending.
import { renderQrPng, renderWireguardConf, wireguardConfFileName } from '../provisioning/clientConfig.js';
import { pppInstructions, type PppProtocol } from '../provisioning/pppInstructions.js';
import { audit } from './audit.js';
import type { ChatChannels } from './notifications.js';
import { ChatDeliveryError, type DomainDeps, type RouterGateway } from './ports.js';

export interface DeviceConfigFiles {
  intro: string;
  conf?: { filename: string; text: string };
  qrPng?: Buffer;
}

/** Builds what the owner receives for a device (used by delivery and by tests). */
export async function buildDeviceConfig(deps: DomainDeps, routers: RouterGateway, accountId: string): Promise<DeviceConfigFiles | null> {
  const account = await deps.db.vpnAccount.findUnique({ where: { id: accountId }, include: { router: true } });
  if (!account || account.provisionState !== 'active') return null;
  const router = account.router;
  const box = deps.secretBox;
  if (account.kind === 'wireguard') {
    const ops = await routers.forRouter(router.id);
    const iface = await ops.wireguardInterface(router.wgInterface!);
    if (!iface) throw new Error(`router ${router.name} has no WireGuard interface ${router.wgInterface}`);
    const host = router.vpnHost!.includes(':') ? `[${router.vpnHost}]` : router.vpnHost!;
    const text = renderWireguardConf({
      privateKey: box.open(account.wgPrivateKeyEnc!),
      address: `${account.wgAddress}/32`,
      ...(router.wgDns.length ? { dns: router.wgDns } : {}),
      presharedKey: box.open(account.wgPresharedKeyEnc!),
      serverPublicKey: iface.publicKey,
      endpoint: `${host}:${router.wgPort ?? iface.listenPort}`,
      allowedIps: router.wgAllowedIps,
      persistentKeepalive: router.wgKeepalive,
    });
    return {
      intro:
        `Your WireGuard configuration for "${account.label}" on ${router.name}.\n` +
        'Install the WireGuard app, then scan the QR code (phones) or import the .conf file (computers). ' +
        'Keep both private: they are your key. New connections wait for your approval here.',
      conf: { filename: wireguardConfFileName(account.label), text },
      qrPng: await renderQrPng(text),
    };
  }
  const protocol = (['l2tp', 'sstp', 'pptp', 'ovpn', 'pppoe'].includes(router.pppService) ? router.pppService : 'any') as PppProtocol;
  return {
    intro: pppInstructions({
      protocol,
      server: router.vpnHost!,
      username: account.username!,
      password: box.open(account.pppPasswordEnc!),
      ...(router.ipsecSecretEnc ? { ipsecSecret: box.open(router.ipsecSecretEnc) } : {}),
    }),
  };
}

/**
 * Sends one part, waiting out short rate limits in place: a configuration is several messages,
 * and retrying the whole job would send the parts already delivered twice.
 */
async function sendPatiently(send: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      const wait = err instanceof ChatDeliveryError ? err.retryAfterMs : null;
      if (wait === null || wait > 15_000 || attempt >= 6) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** Sends the configuration to every linked chat of the owner. Retried by its job on transient errors. */
export async function deliverDeviceConfig(deps: DomainDeps, routers: RouterGateway, channels: ChatChannels, accountId: string): Promise<'sent' | 'skipped' | 'no-chat'> {
  const account = await deps.db.vpnAccount.findUnique({ where: { id: accountId }, include: { person: { include: { identities: true } } } });
  if (!account) return 'skipped';
  const files = await buildDeviceConfig(deps, routers, accountId);
  if (!files) return 'skipped';
  // Identities hold the *private* chat with the person (Telegram user chat, Discord DM channel).
  const targets = account.person.identities.filter((i) => channels[i.platform]);
  if (targets.length === 0) return 'no-chat';
  for (const identity of targets) {
    const channel = channels[identity.platform]!;
    await sendPatiently(() => channel.sendText(identity.chatId, files.intro));
    const { conf, qrPng } = files;
    if (conf) {
      await sendPatiently(() =>
        channel.sendFile(identity.chatId, { kind: 'document', filename: conf.filename, bytes: Buffer.from(conf.text, 'utf8'), caption: `${account.label}: WireGuard configuration file` }),
      );
    }
    if (qrPng) {
      await sendPatiently(() =>
        channel.sendFile(identity.chatId, { kind: 'photo', filename: `${account.label}-qr.png`, bytes: qrPng, caption: `${account.label}: scan with the WireGuard app` }),
      );
    }
  }
  await audit(deps.db, { actor: 'system', action: 'device.delivered', routerId: account.routerId, personId: account.personId, detail: { accountId, chats: targets.length } });
  return 'sent';
}
