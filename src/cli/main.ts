// Operator CLI: `npm run cli -- <command>` (or `warden <command>` once built).
// Each command parses its arguments, calls one domain function and prints the result.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { createLogger } from '../log.js';
import { createDb, type Db } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';
import { WardenError } from '../domain/errors.js';
import { createDomainDeps } from '../domainDeps.js';
import type { DomainDeps } from '../domain/ports.js';
import {
  addPerson,
  addPppAccount,
  addRouter,
  findPerson,
  findRouterByName,
  liftBan,
  removeRouter,
  rotateHookToken,
  setRouterProvisioning,
} from '../domain/admin.js';
import { createLinkCode } from '../domain/linking.js';
import { createDevice, removeDevice } from '../domain/devices.js';
import { createInvite } from '../domain/signup.js';
import { parseKind } from '../messaging/commands.js';
import { renderRouterScripts } from '../routerScripts/render.js';

const USAGE = `Warden operator CLI

Usage: npm run cli -- <command> [options]

Database
  db migrate                               apply pending migrations (creates the database if missing)

Routers
  router add <name> --host H --user U (--password P | --password-env VAR)
             [--port 8728] [--tls] [--allow-cidr CIDR]... [--sandbox-list L] [--permit-list L] [--ban-list L]
                                           register a router; prints its hook token once
  router list                              list routers
  router scripts <name> [--rotate-token | --token T] [--vpn-pool CIDR] [--warden-address IP] [--ppp-profile P]
             [--wireguard-watch]
                                           print the RouterOS scripts filled in for this router
  router rotate-token <name>               issue a new hook token (the old one stops working)
  router set <name> [--vpn-host H] [--ppp-profile P] [--ppp-service any|l2tp|sstp|pptp|ovpn|pppoe]
             [--ipsec-secret-env VAR] [--wg-interface IF] [--wg-port N] [--wg-pool CIDR]
             [--wg-dns IP,IP] [--wg-allowed-ips CIDR,CIDR] [--wg-keepalive S]
                                           how devices are provisioned on this router
  router remove <name>                     delete a router and everything Warden knows about it

People and accounts
  person add <display name>                add a person (prints the id)
  person list                              list people and their linked chats
  account add --router R --user U --owner <person id or name>
                                           add a PPP account owned by a person
  account list                             list VPN accounts
  account disable|enable|delete <user or id>
                                           refuse new logins / allow again / delete (Warden-made devices
                                           are removed from the router and disconnected)
  device add --owner P --router R --kind wireguard|ppp --name N
                                           create a device on the router; its config goes to P's chats
  link-code <person id or name>            one-time code the person sends to the bot (/link CODE)
  invite create --router R [--uses N] [--hours H] [--kind wireguard|ppp]
                                           invite code for /signup CODE (creates person + first device)

Sessions and bans
  sessions list [--state S] [--router R] [--limit N] [--problems]
  bans list [--all]
  unban <ban id>                           lift a ban now (the router entry is removed by the service)
  audit [--session ID] [--limit N]         the audit log, newest first
`;

/** An account by PPP user name or (a prefix of) its id. */
async function findAccountByRef(deps: DomainDeps, ref: string) {
  const accounts = await deps.db.vpnAccount.findMany({ where: { OR: [{ username: ref }, { id: { startsWith: ref.toLowerCase() } as never }] } });
  if (accounts.length !== 1) throw new WardenError('not-found', `no single account matches "${ref}" (see: account list)`);
  return accounts[0]!;
}

function table(rows: Array<Record<string, unknown>>): string {
  if (rows.length === 0) return '(none)';
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((r) => columns.map((c) => formatCell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (value instanceof Date) return value.toISOString().replace('T', ' ').slice(0, 19);
  if (Array.isArray(value)) return value.join(',') || '-';
  return String(value);
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new WardenError('invalid-input', `missing ${flag}`);
  return value;
}

async function run(argv: string[], config: Config, db: Db): Promise<void> {
  const deps = createDomainDeps(config, db, { logger: createLogger('warn') });
  const box = deps.secretBox;

  const [group, action, ...rest] = argv;
  const out = (text: string) => process.stdout.write(text + '\n');

  switch (`${group} ${action ?? ''}`.trim()) {
    case 'db migrate': {
      const { applied } = await migrateDatabase(config.databaseUrl);
      out(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      return;
    }
    case 'router add': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          host: { type: 'string' },
          port: { type: 'string', default: '8728' },
          tls: { type: 'boolean', default: false },
          user: { type: 'string' },
          password: { type: 'string' },
          'password-env': { type: 'string' },
          'allow-cidr': { type: 'string', multiple: true },
          'sandbox-list': { type: 'string' },
          'permit-list': { type: 'string' },
          'ban-list': { type: 'string' },
        },
      });
      const password = values.password ?? (values['password-env'] ? process.env[values['password-env']] : undefined);
      const { hookToken } = await addRouter(deps, box, {
        name: required(positionals[0], '<name>'),
        apiHost: required(values.host, '--host'),
        apiPort: Number(values.port),
        apiTls: values.tls ?? false,
        apiUser: required(values.user, '--user'),
        apiPassword: required(password, '--password or --password-env'),
        allowedCidrs: values['allow-cidr'] ?? [],
        ...(values['sandbox-list'] ? { sandboxList: values['sandbox-list'] } : {}),
        ...(values['permit-list'] ? { permitList: values['permit-list'] } : {}),
        ...(values['ban-list'] ? { banList: values['ban-list'] } : {}),
      });
      out(`router "${positionals[0]}" added.`);
      out(`hook token (shown once, stored only as a hash): ${hookToken}`);
      out(`next: npm run cli -- router scripts ${positionals[0]} --token ${hookToken}`);
      return;
    }
    case 'router list': {
      const routers = await db.router.findMany({ orderBy: { name: 'asc' } });
      out(
        table(
          routers.map((r) => ({
            name: r.name,
            api: `${r.apiTls ? 'api-ssl' : 'api'}://${r.apiUser}@${r.apiHost}:${r.apiPort}`,
            sandbox: r.sandboxList,
            permit: r.permitList,
            ban: r.banList,
            'allowed sources': r.allowedCidrs,
          })),
        ),
      );
      return;
    }
    case 'router scripts': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          'rotate-token': { type: 'boolean', default: false },
          token: { type: 'string' },
          'vpn-pool': { type: 'string' },
          'warden-address': { type: 'string' },
          'ppp-profile': { type: 'string' },
          'wireguard-watch': { type: 'boolean', default: false },
        },
      });
      const router = await findRouterByName(deps, required(positionals[0], '<name>'));
      let token = values.token;
      if (values['rotate-token']) token = await rotateHookToken(deps, router.name);
      if (!token) {
        throw new WardenError(
          'invalid-input',
          'the hook token is stored only as a hash; pass --token <token from "router add">, or --rotate-token to issue a new one',
        );
      }
      const scripts = renderRouterScripts({
        routerName: router.name,
        wardenUrl: config.http.publicUrl,
        hookToken: token,
        sandboxList: router.sandboxList,
        permitList: router.permitList,
        banList: router.banList,
        ...(values['vpn-pool'] ? { vpnPool: values['vpn-pool'] } : {}),
        ...(values['warden-address'] ? { wardenAddress: values['warden-address'] } : {}),
        ...(values['ppp-profile'] ? { pppProfile: values['ppp-profile'] } : {}),
        // The scheduler alternative to Warden polling WireGuard peers, for routers with an interface set.
        ...(values['wireguard-watch'] && router.wgInterface
          ? { wireguard: { interface: router.wgInterface, idleSeconds: Math.round(config.policy.wireguardIdleMs / 1000) } }
          : {}),
      });
      if (values['wireguard-watch'] && !router.wgInterface) {
        throw new WardenError('invalid-input', `router "${router.name}" has no WireGuard interface (router set --wg-interface)`);
      }
      if (values['rotate-token']) out(`# new hook token issued for "${router.name}"; the old one no longer works\n`);
      out('# ===== 1. setup (paste once, in a terminal on the router) =====');
      out(scripts.setup);
      out('# ===== 2. PPP profile on-up script =====');
      out(scripts.onUp);
      out('# ===== 3. PPP profile on-down script =====');
      out(scripts.onDown);
      if (scripts.wireguardWatchSetup) {
        out('# ===== 4. WireGuard watch (optional: the router reports handshakes instead of Warden polling) =====');
        out(scripts.wireguardWatchSetup);
      }
      return;
    }
    case 'router rotate-token': {
      const name = required(rest[0], '<name>');
      const token = await rotateHookToken(deps, name);
      out(`new hook token for "${name}": ${token}`);
      out(`update the router: npm run cli -- router scripts ${name} --token ${token}`);
      return;
    }
    case 'router set': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          'vpn-host': { type: 'string' },
          'ppp-profile': { type: 'string' },
          'ppp-service': { type: 'string' },
          'ipsec-secret-env': { type: 'string' },
          'wg-interface': { type: 'string' },
          'wg-port': { type: 'string' },
          'wg-pool': { type: 'string' },
          'wg-dns': { type: 'string' },
          'wg-allowed-ips': { type: 'string' },
          'wg-keepalive': { type: 'string' },
        },
      });
      const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((x) => x.trim()).filter(Boolean));
      const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
      const ipsecVar = values['ipsec-secret-env'];
      const settings = Object.fromEntries(
        Object.entries({
          vpnHost: values['vpn-host'],
          pppProfile: values['ppp-profile'],
          pppService: values['ppp-service'],
          ipsecSecret: ipsecVar ? required(process.env[ipsecVar], `environment variable ${ipsecVar}`) : undefined,
          wgInterface: values['wg-interface'],
          wgPort: num(values['wg-port']),
          wgPool: values['wg-pool'],
          wgDns: list(values['wg-dns']),
          wgAllowedIps: list(values['wg-allowed-ips']),
          wgKeepalive: num(values['wg-keepalive']),
        }).filter(([, v]) => v !== undefined),
      );
      const router = await setRouterProvisioning(deps, required(positionals[0], '<name>'), settings);
      out(`router "${router.name}": vpn host ${router.vpnHost ?? '-'}; ppp ${router.pppService}/${router.pppProfile}; wireguard ${router.wgInterface ?? '-'} pool ${router.wgPool ?? '-'} port ${router.wgPort ?? '(interface)'}`);
      return;
    }
    case 'invite create': {
      const { values } = parseArgs({
        args: rest,
        options: { router: { type: 'string' }, uses: { type: 'string', default: '1' }, hours: { type: 'string' }, kind: { type: 'string', default: 'wireguard' } },
      });
      const router = await findRouterByName(deps, required(values.router, '--router'));
      const kind = parseKind(values.kind);
      if (!kind) throw new WardenError('invalid-input', '--kind must be wireguard or ppp');
      const { code, expiresAt } = await createInvite(deps, {
        routerId: router.id,
        kind,
        maxUses: Number(values.uses),
        ...(values.hours ? { ttlMs: Number(values.hours) * 3_600_000 } : {}),
        createdBy: 'operator',
      });
      out(`invite code: ${code} (${values.uses} use(s), ${kind} on ${router.name}, valid until ${expiresAt.toISOString()})`);
      out(`they send "/signup ${code}" to the bot${config.telegramBotUsername ? ` or open https://t.me/${config.telegramBotUsername}?start=${code}` : ''}`);
      return;
    }
    case 'device add': {
      const { values } = parseArgs({
        args: rest,
        options: { owner: { type: 'string' }, router: { type: 'string' }, kind: { type: 'string', default: 'wireguard' }, name: { type: 'string' } },
      });
      const person = await findPerson(deps, required(values.owner, '--owner'));
      const router = await findRouterByName(deps, required(values.router, '--router'));
      const kind = parseKind(values.kind);
      if (!kind) throw new WardenError('invalid-input', '--kind must be wireguard or ppp');
      const device = await createDevice(deps, { personId: person.id, routerId: router.id, kind, label: required(values.name, '--name'), actor: 'operator' });
      out(`device ${device.label} (${device.kind}) queued for provisioning: ${device.id}; its configuration goes to ${person.displayName}'s chats`);
      return;
    }
    case 'account disable':
    case 'account enable': {
      const account = await findAccountByRef(deps, required(rest[0], '<account>'));
      await db.vpnAccount.update({ where: { id: account.id }, data: { disabled: action === 'disable' } });
      out(`account ${account.username ?? account.label} ${action}d`);
      return;
    }
    case 'account delete': {
      const account = await findAccountByRef(deps, required(rest[0], '<account>'));
      if (!account.managed) {
        await db.vpnAccount.delete({ where: { id: account.id } });
        out(`account ${account.username} deleted from Warden (it was not created by Warden, so the router keeps its secret)`);
        return;
      }
      await removeDevice(deps, account.id, 'operator');
      out(`account ${account.username ?? account.label} is being removed from the router and disconnected`);
      return;
    }
    case 'router remove': {
      await removeRouter(deps, required(rest[0], '<name>'));
      out('router removed');
      return;
    }
    case 'person add': {
      const { id } = await addPerson(deps, rest.join(' '));
      out(id);
      return;
    }
    case 'person list': {
      const people = await db.person.findMany({ include: { identities: true }, orderBy: { createdAt: 'asc' } });
      out(
        table(
          people.map((p) => ({
            id: p.id,
            name: p.displayName,
            chats: p.identities.map((i) => `${i.platform}:${i.username ? '@' + i.username : i.externalId}`),
          })),
        ),
      );
      return;
    }
    case 'account add': {
      const { values } = parseArgs({
        args: rest,
        options: { router: { type: 'string' }, user: { type: 'string' }, owner: { type: 'string' } },
      });
      const account = await addPppAccount(deps, {
        routerName: required(values.router, '--router'),
        username: required(values.user, '--user'),
        owner: required(values.owner, '--owner'),
      });
      out(`account ${account.username} added (${account.id})`);
      return;
    }
    case 'account list': {
      const accounts = await db.vpnAccount.findMany({ include: { router: true, person: true }, orderBy: { createdAt: 'asc' } });
      out(
        table(
          accounts.map((a) => ({
            router: a.router.name,
            kind: a.kind,
            account: a.username ?? a.wgPublicKey,
            owner: a.person.displayName,
            disabled: a.disabled,
            'unconfirmed streak': a.unconfirmedStreak,
          })),
        ),
      );
      return;
    }
    case 'sessions list': {
      const { values } = parseArgs({
        args: rest,
        options: {
          state: { type: 'string' },
          router: { type: 'string' },
          limit: { type: 'string', default: '50' },
          problems: { type: 'boolean', default: false },
        },
      });
      const states = ['pending', 'approved', 'denied', 'expired', 'closed'];
      if (values.state && !states.includes(values.state)) throw new WardenError('invalid-input', `--state must be one of ${states.join(', ')}`);
      const routerId = values.router ? (await findRouterByName(deps, values.router)).id : undefined;
      const sessions = await db.connectionSession.findMany({
        where: {
          ...(values.state ? { state: values.state as never } : {}),
          ...(routerId ? { routerId } : {}),
          ...(values.problems ? { routerEffect: 'failed' } : {}),
        },
        include: { account: true, router: true },
        orderBy: { createdAt: 'desc' },
        take: Math.min(1000, Number(values.limit) || 50),
      });
      out(
        table(
          sessions.map((s) => ({
            started: s.createdAt,
            router: s.router.name,
            account: s.account.username,
            from: s.callerId,
            address: s.sessionAddress,
            state: s.state,
            router_effect: s.routerEffect,
            note: s.effectError ?? s.closeReason,
            id: s.id,
          })),
        ),
      );
      return;
    }
    case 'bans list': {
      const { values } = parseArgs({ args: rest, options: { all: { type: 'boolean', default: false } } });
      const bans = await db.ban.findMany({
        where: values.all ? {} : { liftedAt: null, expiresAt: { gt: new Date() } },
        include: { router: true },
        orderBy: { createdAt: 'desc' },
        take: 500,
      });
      out(
        table(
          bans.map((b) => ({
            id: b.id,
            router: b.router.name,
            address: b.address,
            reason: b.reason,
            since: b.createdAt,
            until: b.expiresAt,
            lifted: b.liftedAt,
          })),
        ),
      );
      return;
    }
  }
  if (group === 'audit') {
    const { values } = parseArgs({
      args: argv.slice(1),
      options: { session: { type: 'string' }, limit: { type: 'string', default: '50' } },
    });
    const events = await db.auditEvent.findMany({
      where: values.session ? { sessionId: values.session } : {},
      orderBy: { id: 'desc' },
      take: Math.min(1000, Number(values.limit) || 50),
    });
    out(table(events.map((e) => ({ at: e.at, actor: e.actor, action: e.action, session: e.sessionId, detail: JSON.stringify(e.detail) }))));
    return;
  }
  if (group === 'link-code') {
    const person = await findPerson(deps, required([action, ...rest].filter(Boolean).join(' '), '<person>'));
    const { code, expiresAt } = await createLinkCode(deps, person.id);
    out(`link code for ${person.displayName}: ${code}`);
    out(`valid until ${expiresAt.toISOString()}; they send "/link ${code}" to the bot`);
    const username = config.telegramBotUsername;
    if (username) out(`or open https://t.me/${username}?start=${code}`);
    return;
  }
  if (group === 'unban') {
    const { changed, ban } = await liftBan(deps, required(action, '<ban id>'), 'operator');
    out(changed ? `ban on ${ban.address} lifted; the router entry is removed by the running service` : 'that ban was already lifted');
    return;
  }
  throw new WardenError('invalid-input', `unknown command "${argv.join(' ')}"\n\n${USAGE}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(2);
    }
    throw err;
  }
  const db = createDb(config.databaseUrl);
  try {
    await run(argv, config, db);
  } catch (err) {
    if (err instanceof WardenError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = err.code === 'invalid-input' ? 2 : 1;
    } else if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`error: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  } finally {
    await db.$disconnect();
  }
}

await main();
