// Setup steps a user receives with a PPP account (/ppp/secret) on a MikroTik router: one short,
// plain-text message per protocol, small enough for one Telegram message (at most 1500 characters
// here; the bots add their own formatting). Credentials are listed once at the top and the steps
// refer to them, which keeps every message short whatever their length.
//
// Client facts used: Windows 10/11 have built-in L2TP/IPsec (pre-shared key), SSTP and PPTP;
// macOS and iOS have L2TP over IPsec but dropped PPTP (macOS 10.12 / iOS 10) and never had SSTP;
// recent Android versions only create IKEv2 profiles, so L2TP/PPTP exist only on older ones.
// RouterOS cannot hand out an OpenVPN profile itself: the admin has to build the .ovpn file.

import { WardenError } from '../domain/errors.js';
import { isHostOrIp } from './clientConfig.js';

export type PppProtocol = 'l2tp' | 'sstp' | 'pptp' | 'ovpn' | 'pppoe' | 'any';

export const PPP_PROTOCOLS: readonly PppProtocol[] = ['l2tp', 'sstp', 'pptp', 'ovpn', 'pppoe', 'any'];

export interface PppInstructionsInput {
  protocol: PppProtocol;
  /** The router's public DNS name or IP address (for PPPoE: the router whose network it is). */
  server: string;
  username: string;
  password: string;
  /** The L2TP server's IPsec secret (/interface/l2tp-server/server ipsec-secret). */
  ipsecSecret?: string;
}

/** Upper bound for one message (Telegram allows 4096; we keep room for the bot's own text). */
export const PPP_INSTRUCTIONS_MAX_CHARS = 1500;

/** Longest accepted credentials; with these the longest message still fits the bound above. */
export const PPP_LIMITS = { server: 253, username: 64, password: 128, ipsecSecret: 128 } as const;

type Field = keyof typeof PPP_LIMITS;

function invalid(field: Field | 'protocol', problem: string): WardenError {
  return new WardenError('invalid-input', `PPP instructions: ${field} ${problem}`, { field });
}

/** Non-empty, at most `max` characters, one line, no control characters, no padding spaces (invisible in chat). */
function checkText(field: Field, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(field, 'is empty');
  if (value.length > PPP_LIMITS[field]) throw invalid(field, `is longer than ${PPP_LIMITS[field]} characters`);
  if (/[\p{Cc}\p{Zl}\p{Zp}]/u.test(value)) throw invalid(field, 'contains a line break or control character');
  if (value.trim() !== value) throw invalid(field, 'starts or ends with a space');
  return value;
}

const WINDOWS_VPN = 'Settings > Network & internet > VPN > Add VPN. VPN provider: Windows (built-in)';

function credentials(heading: string, server: string, username: string, password: string, serverLabel = 'Server'): string[] {
  return [heading, '', `${serverLabel}: ${server}`, `Username: ${username}`, `Password: ${password}`];
}

function l2tpLines(secret: string | undefined): string[] {
  return [
    `Windows 10/11: ${WINDOWS_VPN}; VPN type: L2TP/IPsec with pre-shared key. Enter the server, the pre-shared key, and the username and password above. Save, then Connect.`,
    'macOS: System Settings > VPN > Add VPN Configuration > L2TP over IPSec. Server address and account name as above; password authentication with the password above; shared secret = the pre-shared key.',
    'iPhone/iPad: Settings > General > VPN & Device Management > VPN > Add VPN Configuration. Type: L2TP. Fill in Server, Account, Password, and Secret = the pre-shared key.',
    'Android: only older versions have it (Settings > Network > VPN > Add, type L2TP/IPSec PSK, IPsec pre-shared key as above). On newer Android ask the admin for WireGuard or OpenVPN.',
    ...(secret === undefined ? ['You need the IPsec pre-shared key: ask the admin for it.'] : []),
  ];
}

function render(input: PppInstructionsInput, server: string, username: string, password: string, secret: string | undefined): string[] {
  const secretLine = `IPsec pre-shared key: ${secret ?? '(ask the admin)'}`;
  switch (input.protocol) {
    case 'l2tp':
      return [...credentials('L2TP/IPsec VPN setup', server, username, password), secretLine, '', ...l2tpLines(secret)];
    case 'sstp':
      return [
        ...credentials('SSTP VPN setup (Windows)', server, username, password),
        '',
        `Windows 10/11: ${WINDOWS_VPN}; VPN type: Secure Socket Tunneling Protocol (SSTP); server name exactly as above (it must match the server certificate); sign-in: user name and password above. Save, then Connect.`,
        'If Windows reports a certificate error, ask the admin for the CA certificate and import it into "Trusted Root Certification Authorities" of the Local Computer store.',
        'macOS, iPhone/iPad and Android have no built-in SSTP: use a third-party SSTP app, or ask the admin for another protocol.',
      ];
    case 'ovpn':
      return [
        ...credentials('OpenVPN setup', server, username, password),
        '',
        '1. Ask the admin for an .ovpn profile for this server. It must contain the server\'s CA certificate, the port and TCP or UDP. The router cannot create it for you.',
        '2. Install OpenVPN Connect (Windows, macOS, iPhone/iPad, Android) from openvpn.net or your app store.',
        '3. Import the .ovpn file, enter the username and password above, and connect.',
      ];
    case 'pptp':
      return [
        ...credentials('PPTP VPN setup - INSECURE', server, username, password),
        '',
        'Warning: PPTP encryption is broken; anyone who records your traffic can decrypt it. Use it only if nothing else works and ask the admin for WireGuard, SSTP or L2TP/IPsec.',
        '',
        `Windows 10/11: ${WINDOWS_VPN}; VPN type: Point to Point Tunneling Protocol (PPTP). Enter the server, username and password above. Save, then Connect.`,
        'macOS and iPhone/iPad: not supported (Apple removed PPTP).',
        'Android: only older versions (Settings > Network > VPN > Add, type PPTP).',
      ];
    case 'pppoe':
      return [
        ...credentials('PPPoE connection setup', server, username, password, 'Network of router'),
        '',
        'PPPoE works only on the local network of that router (cable or bridge), not over the internet.',
        'Windows 10/11: Settings > Network & internet > Dial-up > Set up a new connection > Connect to the Internet > Broadband (PPPoE). Enter the username and password above.',
        'macOS: System Settings > Network > "..." > Add Service > Interface: PPPoE. Account name and password as above.',
        'Home router: set the WAN/Internet type to PPPoE with this username and password; leave the service name empty unless the admin gives one.',
        'Phones and tablets cannot use PPPoE.',
      ];
    case 'any':
      return [
        ...credentials('VPN setup (your account works with several protocols)', server, username, password),
        secretLine,
        '',
        'Use whichever the admin has enabled, in this order:',
        `- Windows: SSTP. ${WINDOWS_VPN}; VPN type: Secure Socket Tunneling Protocol (SSTP). On a certificate error, ask the admin for the CA certificate.`,
        '- macOS, iPhone/iPad: L2TP/IPsec. Add VPN Configuration, type L2TP (over IPSec); secret = the pre-shared key.',
        '- Android and others: OpenVPN Connect with an .ovpn profile from the admin (it holds the server certificate).',
        '- Avoid PPTP: its encryption is broken.',
        'Every option uses the server, username and password above.',
      ];
    default:
      throw invalid('protocol', `must be one of ${PPP_PROTOCOLS.join(', ')}`);
  }
}

/**
 * Plain-text setup steps for one PPP account. Throws WardenError('invalid-input') naming the field
 * for an unknown protocol or an unusable server/username/password/secret.
 */
export function pppInstructions(input: PppInstructionsInput): string {
  if (typeof input !== 'object' || input === null || !PPP_PROTOCOLS.includes(input.protocol)) {
    throw invalid('protocol', `must be one of ${PPP_PROTOCOLS.join(', ')}`);
  }
  const server = checkText('server', input.server);
  if (!isHostOrIp(server)) throw invalid('server', 'must be a DNS name or an IP address');
  const username = checkText('username', input.username);
  const password = checkText('password', input.password);
  const secret = input.ipsecSecret === undefined ? undefined : checkText('ipsecSecret', input.ipsecSecret);
  const text = render(input, server, username, password, secret).join('\n') + '\n';
  // Guaranteed by PPP_LIMITS (the tests check the worst case); kept so an edit of the texts cannot
  // silently produce a message the bots would have to split.
  if (text.length > PPP_INSTRUCTIONS_MAX_CHARS) {
    throw new Error(`PPP instructions for ${input.protocol} are ${text.length} characters, over ${PPP_INSTRUCTIONS_MAX_CHARS}`);
  }
  return text;
}
