// The RouterOS scripts Warden prints for routers: values land in the right commands, nothing a
// caller passes can inject script, and the output is well-formed enough to paste into a router.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  RouterScriptParamError,
  ROUTER_SCRIPT_DEFAULTS,
  ROUTER_SCRIPT_PATTERNS,
  ROUTER_SCRIPT_PLACEHOLDERS,
  findPackageRoot,
  quoteRouterOsString,
  renderRouterScripts,
  routerScriptTemplateDir,
  type RouterScriptParams,
} from '../../src/routerScripts/render.js';
import { LIST_NAME, PppHookBody, ROUTER_NAME, WireguardHandshakeBody } from '../../src/domain/hookClaims.js';
import { newHookToken } from '../../src/crypto/tokens.js';

const TOKEN = 'wdn_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWpr';

const SAMPLE: RouterScriptParams = {
  routerName: 'office-1',
  wardenUrl: 'https://warden.example.com/',
  hookToken: TOKEN,
  sandboxList: 'warden-sandbox',
  permitList: 'warden-permit',
  banList: 'warden-ban',
  chatList: 'chat-ok',
  vpnPool: '10.8.0.0/24',
  pppProfile: 'vpn-users',
  apiUser: 'warden-bot',
  apiGroup: 'warden-grp',
  wardenAddress: '192.0.2.10',
};

const PLACEHOLDER = /\{[A-Z][A-Z0-9_]*\}/g;

// --- Small RouterOS script readers used by the assertions ---------------------------------------

/** Decodes the body of a RouterOS double-quoted string (escapes per the scripting manual). */
function decodeRouterOsString(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = body[++i];
    const simple: Record<string, string> = { '\\': '\\', '"': '"', $: '$', '?': '?', n: '\n', r: '\r', t: '\t', _: ' ', a: '\x07', b: '\b', f: '\f', v: '\v' };
    if (next !== undefined && next in simple) out += simple[next];
    else if (next !== undefined && /^[0-9A-F]{2}$/.test(body.slice(i, i + 2))) {
      out += String.fromCharCode(parseInt(body.slice(i, i + 2), 16));
      i++;
    } else throw new Error(`unknown escape \\${next} in RouterOS string`);
  }
  return out;
}

/** Reads the string literal starting at `start` (an opening quote); returns its raw body and end. */
function readStringLiteral(text: string, start: number): { raw: string; end: number } {
  assert.equal(text[start], '"');
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  assert.ok(i < text.length, 'unterminated string literal');
  return { raw: text.slice(start + 1, i), end: i };
}

/**
 * Checks quotes and (), [], {} pairs, ignoring comment lines and string contents, and flags a "$"
 * inside a string: Warden's scripts concatenate with "." and never interpolate, so an unescaped
 * "$" in a string can only be a quoting mistake.
 */
function checkBalance(script: string): string[] {
  const problems: string[] = [];
  const stack: Array<{ ch: string; line: number }> = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let line = 1;
  let lineStart = true;
  for (let i = 0; i < script.length; i++) {
    const ch = script[i]!;
    if (ch === '\n') {
      line++;
      lineStart = true;
      continue;
    }
    if (lineStart && (ch === ' ' || ch === '\t')) continue;
    if (lineStart && ch === '#') {
      while (i + 1 < script.length && script[i + 1] !== '\n') i++;
      continue;
    }
    lineStart = false;
    if (ch === '"') {
      let j = i + 1;
      for (; j < script.length && script[j] !== '"'; j++) {
        if (script[j] === '\\') j++;
        else if (script[j] === '\n') problems.push(`line ${line}: newline inside a string`);
        else if (script[j] === '$') problems.push(`line ${line}: unescaped $ inside a string`);
      }
      if (j >= script.length) {
        problems.push(`line ${line}: unterminated string`);
        break;
      }
      i = j;
    } else if (ch === '(' || ch === '[' || ch === '{') {
      stack.push({ ch, line });
    } else if (ch in pairs) {
      const open = stack.pop();
      if (!open || open.ch !== pairs[ch]) problems.push(`line ${line}: "${ch}" does not close ${open ? `"${open.ch}" from line ${open.line}` : 'anything'}`);
    }
  }
  for (const open of stack) problems.push(`line ${open.line}: "${open.ch}" is never closed`);
  return problems;
}

/** The value of `attr="..."` in the first line that contains `marker`, decoded. */
function quotedAttribute(script: string, marker: string, attr: string): string {
  const at = script.indexOf(marker);
  assert.ok(at >= 0, `${marker} not found`);
  const key = script.indexOf(` ${attr}="`, at);
  assert.ok(key >= 0, `${attr}= not found after ${marker}`);
  return decodeRouterOsString(readStringLiteral(script, key + attr.length + 2).raw);
}

/** The same escaping as the scripts' jsonEscape function. */
function jsonEscapeLikeRouterOs(s: string): string {
  return s.replace(/["\\]/g, (c) => '\\' + c).replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}

/**
 * Evaluates the script's `:local body "..."` / `:set body ($body . ...)` lines with the given
 * values for the script's local variables, the way RouterOS would concatenate them.
 */
function buildBody(script: string, vars: Record<string, string>): string {
  let body: string | undefined;
  for (const rawLine of script.split('\n')) {
    const line = rawLine.trim();
    if (line.startsWith(':local body ')) {
      body = decodeRouterOsString(readStringLiteral(line, ':local body '.length).raw);
      continue;
    }
    if (!line.startsWith(':set body (')) continue;
    assert.ok(line.endsWith(')'), `unexpected body line: ${line}`);
    let expr = line.slice(':set body ('.length, -1).trim();
    let value = '';
    let expectOperand = true;
    while (expr.length > 0) {
      if (expectOperand) {
        let m: RegExpExecArray | null;
        if (expr.startsWith('"')) {
          const lit = readStringLiteral(expr, 0);
          value += decodeRouterOsString(lit.raw);
          expr = expr.slice(lit.end + 1);
        } else if ((m = /^\$body\b/.exec(expr))) {
          assert.ok(body !== undefined, 'body used before :local body');
          value += body;
          expr = expr.slice(m[0].length);
        } else if ((m = /^\[\$jsonEscape \$([A-Za-z]+)\]/.exec(expr))) {
          const name = m[1]!;
          assert.ok(name in vars, `no test value for $${name}`);
          value += jsonEscapeLikeRouterOs(vars[name]!);
          expr = expr.slice(m[0].length);
        } else if ((m = /^\$([A-Za-z]+)\b/.exec(expr))) {
          // A variable concatenated as it is (values the router produces that need no escaping).
          const name = m[1]!;
          assert.ok(name in vars, `no test value for $${name}`);
          value += vars[name]!;
          expr = expr.slice(m[0].length);
        } else {
          assert.fail(`cannot read operand at: ${expr}`);
        }
      } else {
        assert.ok(expr.startsWith('.'), `expected "." at: ${expr}`);
        expr = expr.slice(1);
      }
      expr = expr.trimStart();
      expectOperand = !expectOperand;
    }
    body = value;
  }
  assert.ok(body !== undefined, 'no body built');
  return body;
}

function withoutComments(script: string): string {
  return script
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))
    .join('\n');
}

/** The first code line (not a comment) containing every needle. */
function lineWith(script: string, ...needles: string[]): string {
  const found = script.split('\n').find((l) => !l.trimStart().startsWith('#') && needles.every((n) => l.includes(n)));
  assert.ok(found, `no line containing ${needles.map((n) => JSON.stringify(n)).join(' and ')}`);
  return found;
}

function expectParamError(params: unknown, field: string): void {
  assert.throws(
    () => renderRouterScripts(params as RouterScriptParams),
    (err: unknown) => {
      assert.ok(err instanceof RouterScriptParamError, `expected RouterScriptParamError, got ${String(err)}`);
      assert.equal(err.field, field);
      assert.equal(err.code, 'invalid-input');
      assert.match(err.message, new RegExp(`\\b${field}\\b`));
      return true;
    },
  );
}

// --- Tests ----------------------------------------------------------------------------------------

describe('renderRouterScripts', () => {
  const out = renderRouterScripts(SAMPLE);

  it('finds the templates from the package root', () => {
    const root = findPackageRoot();
    assert.ok(readFileSync(join(root, 'package.json'), 'utf8').includes('"vpn-warden"'));
    assert.equal(routerScriptTemplateDir(), join(root, 'router-scripts', 'routeros'));
    // Compiled code runs from dist/src/routerScripts and must find the same templates.
    assert.equal(findPackageRoot(join(root, 'dist', 'src', 'routerScripts')), root);
  });

  it('leaves no placeholder unreplaced', () => {
    for (const [name, text] of Object.entries(out)) assert.deepEqual(text.match(PLACEHOLDER), null, name);
  });

  it('puts the hook URLs, token and lists into the PPP scripts', () => {
    assert.equal(lineWith(out.onUp, ':local hookUrl').trim(), ':local hookUrl "https://warden.example.com/hooks/v1/routers/office-1/ppp/up"');
    assert.equal(lineWith(out.onDown, ':local hookUrl').trim(), ':local hookUrl "https://warden.example.com/hooks/v1/routers/office-1/ppp/down"');
    for (const script of [out.onUp, out.onDown]) {
      assert.equal(
        lineWith(script, ':local hookHeaders').trim(),
        `:local hookHeaders "Content-Type: application/json,Authorization: Bearer ${TOKEN}"`,
      );
      const fetch = lineWith(script, '/tool fetch');
      for (const part of ['url=$hookUrl', 'http-method=post', 'http-header-field=$hookHeaders', 'http-data=$body', 'output=none']) {
        assert.ok(fetch.includes(part), `fetch lacks ${part}: ${fetch}`);
      }
      // A Warden outage must never break PPP: the fetch sits inside :do { } on-error={ }.
      const lines = script.split('\n');
      const at = lines.findIndex((l) => l.trimStart().startsWith('/tool fetch'));
      assert.equal(lines[at - 1]!.trim(), ':do {');
      assert.ok(lines.slice(at).some((l) => l.trim().startsWith('} on-error={')));
      lineWith(script, '/ip firewall address-list remove [find where list="warden-permit" address=$pppAddress]');
      assert.equal(script.includes(TOKEN), true);
    }
    lineWith(out.onUp, '/ip firewall address-list add list="warden-sandbox" address=$pppAddress comment=("warden:sandbox:" . $pppUser)');
    lineWith(out.onDown, '/ip firewall address-list remove [find where list="warden-sandbox" address=$pppAddress]');
    assert.equal(out.onDown.includes('address-list add'), false, 'on-down must never add entries');
    // The permit entry is cleared before the sandbox entry is added (fail closed).
    assert.ok(out.onUp.indexOf('list="warden-permit"') < out.onUp.indexOf('add list="warden-sandbox"'));
  });

  it('reads the PPP variables RouterOS gives profile scripts', () => {
    for (const script of [out.onUp, out.onDown]) {
      lineWith(script, ':local pppUser [:tostr $user]');
      lineWith(script, ':local pppCaller [:tostr $"caller-id"]');
      lineWith(script, ':local pppAddress [:tostr $"remote-address"]');
      lineWith(script, ':local pppLocal [:tostr $"local-address"]');
      lineWith(script, ':set pppInterface [/interface get $interface name]');
    }
  });

  it('builds a JSON body with every field the hook API takes', () => {
    const vars = { pppUser: 'alice', pppCaller: '203.0.113.7', pppAddress: '10.8.0.12', pppLocal: '10.8.0.1', pppInterface: '<l2tp-alice>', pppService: 'l2tp' };
    for (const script of [out.onUp, out.onDown]) {
      const json = JSON.parse(buildBody(script, vars));
      assert.deepEqual(json, { user: 'alice', callerId: '203.0.113.7', address: '10.8.0.12', localAddress: '10.8.0.1', interface: '<l2tp-alice>', service: 'l2tp' });
      const parsed = PppHookBody.safeParse(json);
      assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
      // Interface and service may be unknown: empty strings still satisfy the hook API.
      assert.ok(PppHookBody.safeParse(JSON.parse(buildBody(script, { ...vars, pppInterface: '', pppService: '' }))).success);
      // Quotes, backslashes and newlines in a value are escaped, not passed through.
      const odd = 'a"b\\c\nd';
      assert.equal(JSON.parse(buildBody(script, { ...vars, pppUser: odd })).user, odd);
    }
  });

  it('only sends a service name the hook API accepts', () => {
    const line = lineWith(out.onUp, ':if (($svc = "l2tp")');
    for (const svc of ['l2tp', 'sstp', 'pptp', 'ovpn', 'pppoe']) assert.ok(line.includes(`($svc = "${svc}")`), svc);
  });

  it('checks the certificate for https and leaves the option out for http', () => {
    for (const script of [out.onUp, out.onDown]) assert.match(lineWith(script, '/tool fetch'), /output=none check-certificate=yes\s*$/);
    const plain = renderRouterScripts({ ...SAMPLE, wardenUrl: 'http://192.0.2.10:8080' });
    for (const script of [plain.onUp, plain.onDown]) {
      assert.equal(withoutComments(script).includes('check-certificate='), false);
      lineWith(script, ':local hookUrl "http://192.0.2.10:8080/hooks/v1/routers/office-1/ppp/');
    }
    assert.equal(withoutComments(plain.setup).includes('check-certificate=yes'), false);
    assert.equal(withoutComments(out.setup).includes('check-certificate=yes'), true);
  });

  it('puts the lists, pool, API account and profile into the right setup commands', () => {
    const s = out.setup;
    lineWith(s, '/ip firewall raw add chain=prerouting src-address-list="warden-ban" action=drop', 'comment="warden: ');
    lineWith(s, '/ip firewall filter add chain=input src-address=10.8.0.0/24 protocol=udp dst-port=53 action=accept');
    lineWith(s, '/ip firewall filter add chain=input src-address=10.8.0.0/24 protocol=tcp dst-port=53 action=accept');
    lineWith(s, '/ip firewall filter add chain=input src-address=10.8.0.0/24 action=drop');
    lineWith(s, '/ip firewall filter add chain=forward src-address=10.8.0.0/24 src-address-list="warden-permit" action=accept');
    lineWith(s, '/ip firewall filter add chain=forward src-address=10.8.0.0/24 dst-address-list="chat-ok" action=accept');
    lineWith(s, '/ip firewall filter add chain=forward src-address=10.8.0.0/24 action=drop');
    // Rule order: DNS before the input drop, permit and chat before the forward drop.
    const order = (needle: string) => s.indexOf(needle);
    assert.ok(order('protocol=udp dst-port=53') < order('chain=input src-address=10.8.0.0/24 action=drop'));
    assert.ok(order('src-address-list="warden-permit"') < order('chain=forward src-address=10.8.0.0/24 action=drop'));
    assert.ok(order('dst-address-list="chat-ok"') < order('chain=forward src-address=10.8.0.0/24 action=drop'));
    // Every rule is Warden's and findable, and a re-run removes the old ones first.
    for (const l of s.split('\n').filter((x) => /\/ip firewall (filter|raw) add /.test(x))) assert.match(l, /comment="warden: [^"]+"/);
    assert.ok(order('/ip firewall filter remove [find where comment~"^warden:"]') < order('/ip firewall filter add'));
    assert.ok(order('/ip firewall raw remove [find where comment~"^warden:"]') < order('/ip firewall raw add'));

    lineWith(s, '/ip firewall address-list remove [find where list="chat-ok" comment~"^warden:chat:"]');
    lineWith(s, '/ip firewall address-list add list="chat-ok" address=$cidr comment="warden:chat:telegram"');
    for (const cidr of ['91.108.4.0/22', '91.108.8.0/22', '91.108.12.0/22', '91.108.16.0/22', '91.108.56.0/22', '95.161.64.0/20', '149.154.160.0/20']) {
      assert.ok(s.includes(`"${cidr}"`), cidr);
    }
    for (const host of ['api.telegram.org', 'telegram.org', 'discord.com', 'gateway.discord.gg', 'cdn.discordapp.com', 'discord.gg']) {
      assert.ok(s.includes(`"${host}"`), host);
    }

    lineWith(s, '/user group add name="warden-grp" policy=read,write,api');
    lineWith(s, '/user group set [find where name="warden-grp"] policy=read,write,api');
    for (const l of s.split('\n').filter((x) => /\/user group (add|set)/.test(x))) {
      const policy = /policy=(\S+)/.exec(l)![1]!.split(',');
      assert.deepEqual(policy, ['read', 'write', 'api']);
    }
    lineWith(s, '/user add name="warden-bot" group="warden-grp" address=192.0.2.10 disabled=yes');
    assert.equal(/\/user add [^\n]*password=/.test(s), false, 'no password in the setup script');
    lineWith(s, '/ip service set [find where name="api"] address=192.0.2.10');
    lineWith(s, '/ip service set [find where name="api-ssl"] address=192.0.2.10');
    lineWith(s, ':local profile [/ppp profile find where name="vpn-users"]');
    lineWith(s, '/ppp profile set $profile on-up="');
    lineWith(s, 'setup done for router office-1');
  });

  it('stores the PPP scripts in the profile exactly, minus comments', () => {
    const up = quotedAttribute(out.setup, '/ppp profile set $profile', 'on-up');
    const down = quotedAttribute(out.setup, '/ppp profile set $profile', 'on-down');
    assert.equal(up, withoutComments(out.onUp));
    assert.equal(down, withoutComments(out.onDown));
    // Setup recognises its own scripts on a re-run: they start with this line and call a hook.
    lineWith(out.setup, ':local wardenStart ":local hookUrl \\""');
    for (const script of [up, down]) {
      assert.ok(script.startsWith(':local hookUrl "'));
      assert.ok(script.includes('/hooks/v1/routers/'));
    }
  });

  it('produces scripts with balanced quotes and brackets', () => {
    for (const [name, text] of Object.entries(out)) assert.deepEqual(checkBalance(text), [], name);
    const plain = renderRouterScripts({ ...SAMPLE, wardenUrl: 'http://[2001:db8::5]:8080/warden' });
    for (const [name, text] of Object.entries(plain)) assert.deepEqual(checkBalance(text), [], name);
    for (const file of ['setup.rsc', 'ppp-on-up.rsc', 'ppp-on-down.rsc']) {
      assert.deepEqual(checkBalance(readFileSync(join(routerScriptTemplateDir(), file), 'utf8')), [], file);
    }
  });

  it('catches unbalanced scripts (the checker itself)', () => {
    assert.notDeepEqual(checkBalance(':if (a) do={ :put "x" '), []);
    assert.notDeepEqual(checkBalance(':put "x'), []);
    assert.notDeepEqual(checkBalance(':put [:len "a"]]'), []);
    assert.notDeepEqual(checkBalance(':put "a$b"'), []);
    assert.deepEqual(checkBalance('# a "comment" with ( and {\n:put "a\\"{[(\\$"'), []);
  });

  it('is safe to paste into a terminal: ASCII, no tabs, no bare "?"', () => {
    for (const [name, text] of Object.entries(out)) {
      assert.match(text, /^[\x20-\x7e\n]*$/, `${name} has non-ASCII or control characters`);
    }
    // Typed or pasted into a terminal, "?" opens the console help, even in a comment; in a string
    // it must be written \?. Tabs would trigger completion.
    for (const [name, text] of Object.entries(out)) {
      for (const l of text.split('\n')) assert.ok(!/(^|[^\\])\?/.test(l), `${name}: ${l}`);
    }
  });

  it('fills defaults and marks the default VPN pool', () => {
    const { chatList: _c, vpnPool: _v, pppProfile: _p, apiUser: _u, apiGroup: _g, ...required } = SAMPLE;
    const d = renderRouterScripts(required);
    lineWith(d.setup, `dst-address-list="${ROUTER_SCRIPT_DEFAULTS.chatList}"`);
    lineWith(d.setup, `src-address=${ROUTER_SCRIPT_DEFAULTS.vpnPool}`);
    lineWith(d.setup, `/ppp profile find where name="${ROUTER_SCRIPT_DEFAULTS.pppProfile}"`);
    lineWith(d.setup, `/user add name="${ROUTER_SCRIPT_DEFAULTS.apiUser}" group="${ROUTER_SCRIPT_DEFAULTS.apiGroup}"`);
    lineWith(d.setup, ':put "warden: WARNING the VPN pool 10.8.0.0/24 is Warden\'s default placeholder');
    assert.equal(out.setup.includes('WARNING the VPN pool'), false);
    assert.ok(out.setup.includes('\n  # VPN client pool: 10.8.0.0/24\n'));
  });

  it('takes the API source address from an IP URL, and requires it for a host name', () => {
    const { wardenAddress: _a, ...rest } = SAMPLE;
    const fromUrl = renderRouterScripts({ ...rest, wardenUrl: 'http://192.0.2.77:3000' });
    lineWith(fromUrl.setup, '/ip service set [find where name="api"] address=192.0.2.77');
    const v6 = renderRouterScripts({ ...rest, wardenUrl: 'https://[2001:db8::7]/' });
    lineWith(v6.setup, '/ip service set [find where name="api"] address=2001:db8::7');
    lineWith(v6.onUp, ':local hookUrl "https://[2001:db8::7]/hooks/v1/routers/office-1/ppp/up"');
    expectParamError(rest, 'wardenAddress');
  });

  it('accepts the hook tokens Warden issues', () => {
    for (let i = 0; i < 20; i++) renderRouterScripts({ ...SAMPLE, hookToken: newHookToken() });
  });

  it('normalises the base URL', () => {
    const r = renderRouterScripts({ ...SAMPLE, wardenUrl: 'https://warden.example.com:8443/base///' });
    lineWith(r.onUp, ':local hookUrl "https://warden.example.com:8443/base/hooks/v1/routers/office-1/ppp/up"');
  });
});

describe('WireGuard handshake watch script', () => {
  const KEY = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
  const out = renderRouterScripts({ ...SAMPLE, wireguard: { interface: 'wg-warden', intervalSeconds: 20, idleSeconds: 240 } });
  const watch = out.wireguardWatch!;
  const install = out.wireguardWatchSetup!;

  it('is rendered only when asked for', () => {
    assert.deepEqual(Object.keys(renderRouterScripts(SAMPLE)).sort(), ['onDown', 'onUp', 'setup']);
    assert.equal(typeof watch, 'string');
    assert.equal(typeof install, 'string');
    for (const text of [watch, install]) assert.deepEqual(text.match(PLACEHOLDER), null);
    // The PPP scripts do not change with the option.
    const plain = renderRouterScripts(SAMPLE);
    assert.equal(out.setup, plain.setup);
    assert.equal(out.onUp, plain.onUp);
  });

  it('reports the peers of the interface to the handshake hook, with the token', () => {
    assert.equal(lineWith(watch, ':local hookUrl').trim(), ':local hookUrl "https://warden.example.com/hooks/v1/routers/office-1/wireguard/handshake"');
    assert.equal(lineWith(watch, ':local hookHeaders').trim(), `:local hookHeaders "Content-Type: application/json,Authorization: Bearer ${TOKEN}"`);
    lineWith(watch, ':foreach peer in=[/interface wireguard peers find where interface="wg-warden" disabled=no] do={');
    lineWith(watch, ':set peerHandshake [/interface wireguard peers get $peer last-handshake]');
    lineWith(watch, ':set peerEndpoint [:tostr [/interface wireguard peers get $peer current-endpoint-address]]');
    assert.equal(lineWith(watch, ':local interval').trim(), ':local interval 20');
    assert.equal(lineWith(watch, ':local idle').trim(), ':local idle 240');
    const fetch = lineWith(watch, '/tool fetch');
    for (const part of ['url=$hookUrl', 'http-method=post', 'http-header-field=$hookHeaders', 'http-data=$body', 'output=none']) {
      assert.ok(fetch.includes(part), `fetch lacks ${part}: ${fetch}`);
    }
    assert.match(fetch, /check-certificate=yes\s*$/);
    // A failed fetch is logged, never stops the loop over the other peers.
    const lines = watch.split('\n');
    const at = lines.findIndex((l) => l.trimStart().startsWith('/tool fetch'));
    assert.equal(lines[at - 1]!.trim(), ':do {');
    assert.ok(lines[at + 1]!.trim().startsWith('} on-error={'));
    // http: no certificate option.
    const plain = renderRouterScripts({ ...SAMPLE, wardenUrl: 'http://192.0.2.10:8080', wireguard: { interface: 'wg0' } });
    assert.equal(withoutComments(plain.wireguardWatch!).includes('check-certificate='), false);
  });

  it('only counts a real handshake, in seconds', () => {
    // A never-handshaken peer has no last-handshake: skipped. The time becomes seconds with :tonum.
    lineWith(watch, ':if ([:typeof $peerHandshake] = "time") do={');
    lineWith(watch, ':local peerSeconds [:tonum $peerHandshake]');
    lineWith(watch, ':local fresh ($peerSeconds <= ($interval + $slack))');
    lineWith(watch, ':local wentQuiet (($peerSeconds > $idle) && ($peerSeconds <= ($idle + $interval + $slack)))');
    lineWith(watch, ':if ($fresh || $wentQuiet) do={');
  });

  it('builds a JSON body the hook API accepts', () => {
    const vars = { peerKey: KEY, peerEndpoint: '198.51.100.7', peerSeconds: '12' };
    const json = JSON.parse(buildBody(watch, vars));
    assert.deepEqual(json, { publicKey: KEY, endpoint: '198.51.100.7', lastHandshakeSeconds: 12 });
    const parsed = WireguardHandshakeBody.safeParse(json);
    assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
    // No endpoint known: an empty string still satisfies the API.
    assert.ok(WireguardHandshakeBody.safeParse(JSON.parse(buildBody(watch, { ...vars, peerEndpoint: '' }))).success);
    assert.ok(WireguardHandshakeBody.safeParse(JSON.parse(buildBody(watch, { ...vars, peerEndpoint: '2001:db8::7' }))).success);
  });

  it('installs the script exactly, minus comments, with a scheduler entry, after its checks', () => {
    assert.equal(quotedAttribute(install, '/system script add name="warden-wireguard-watch"', 'source'), withoutComments(watch));
    const script = lineWith(install, '/system script add name="warden-wireguard-watch"');
    assert.match(script, / policy=read,write,test /);
    const scheduler = lineWith(install, '/system scheduler add name="warden-wireguard-watch"');
    for (const part of ['interval=20s', 'policy=read,write,test', 'on-event="/system script run warden-wireguard-watch"']) {
      assert.ok(scheduler.includes(part), `scheduler lacks ${part}: ${scheduler}`);
    }
    const code = withoutComments(install);
    const at = (needle: string) => code.indexOf(needle);
    // Re-runs replace both; the checks (RouterOS 7.12's :tonum of a time, the interface) come first.
    assert.ok(at('/system scheduler remove [find where name="warden-wireguard-watch"]') < at('/system scheduler add'));
    assert.ok(at('/system script remove [find where name="warden-wireguard-watch"]') < at('/system script add'));
    for (const check of [':set canCount ([:tonum 00:01:00] = 60)', '/interface wireguard find where name="wg-warden"']) {
      assert.ok(at(check) > 0 && at(check) < at('/system scheduler remove'), check);
    }
  });

  it('is well-formed and safe to paste', () => {
    const plain = renderRouterScripts({ ...SAMPLE, wardenUrl: 'http://[2001:db8::5]:8080/warden', wireguard: { interface: 'wg0' } });
    for (const text of [watch, install, plain.wireguardWatch!, plain.wireguardWatchSetup!]) {
      assert.deepEqual(checkBalance(text), []);
      assert.match(text, /^[\x20-\x7e\n]*$/);
      for (const l of text.split('\n')) assert.ok(!/(^|[^\\])\?/.test(l), l);
    }
  });

  it('fills the interval and idle defaults', () => {
    const d = renderRouterScripts({ ...SAMPLE, wireguard: { interface: 'wg0' } });
    assert.equal(lineWith(d.wireguardWatch!, ':local interval').trim(), `:local interval ${ROUTER_SCRIPT_DEFAULTS.wireguardIntervalSeconds}`);
    assert.equal(lineWith(d.wireguardWatch!, ':local idle').trim(), `:local idle ${ROUTER_SCRIPT_DEFAULTS.wireguardIdleSeconds}`);
    lineWith(d.wireguardWatchSetup!, `interval=${ROUTER_SCRIPT_DEFAULTS.wireguardIntervalSeconds}s`);
  });

  it('refuses bad WireGuard options', () => {
    const attacks = ['"', '$', ';', ' ', '\n', '"; /system reset-configuration #', '$[/system reboot]'];
    for (const bad of ['', 'x'.repeat(65), ...attacks.map((a) => `wg0${a}`)]) {
      expectParamError({ ...SAMPLE, wireguard: { interface: bad } }, 'wireguard.interface');
    }
    expectParamError({ ...SAMPLE, wireguard: { interface: 42 } }, 'wireguard.interface');
    for (const v of [4, 3601, 1.5, '10', -1, Number.NaN]) expectParamError({ ...SAMPLE, wireguard: { interface: 'wg0', intervalSeconds: v } }, 'wireguard.intervalSeconds');
    for (const v of [59, 3601, 120.5, '180']) expectParamError({ ...SAMPLE, wireguard: { interface: 'wg0', idleSeconds: v } }, 'wireguard.idleSeconds');
    expectParamError({ ...SAMPLE, wireguard: 'wg0' }, 'wireguard');
    expectParamError({ ...SAMPLE, wireguard: null }, 'wireguard');
  });
});

describe('renderRouterScripts input checks', () => {
  const fields: Array<keyof RouterScriptParams> = [
    'routerName', 'wardenUrl', 'hookToken', 'sandboxList', 'permitList', 'banList', 'chatList', 'vpnPool', 'pppProfile', 'apiUser', 'apiGroup', 'wardenAddress',
  ];
  const attacks = ['"', '$', ';', '\n', '\\', ' ', '"; /system reset-configuration #', '$[/system reboot]', '`', '{', ']'];

  for (const field of fields) {
    it(`rejects script injection in ${field}`, () => {
      for (const attack of attacks) {
        for (const value of [`${SAMPLE[field]}${attack}`, `${attack}${SAMPLE[field]}`]) expectParamError({ ...SAMPLE, [field]: value }, field);
      }
    });
  }

  it('rejects values of the wrong type and empty values', () => {
    for (const field of fields) {
      expectParamError({ ...SAMPLE, [field]: '' }, field);
      expectParamError({ ...SAMPLE, [field]: 42 }, field);
    }
    expectParamError({ ...SAMPLE, routerName: undefined }, 'routerName');
  });

  it('rejects malformed router names, tokens, URLs, pools and addresses', () => {
    for (const v of ['Office', '-office', 'a_b', 'a.b', 'x'.repeat(64)]) expectParamError({ ...SAMPLE, routerName: v }, 'routerName');
    for (const v of ['short', 'x'.repeat(129), 'wdn_abc.def_ghijklmnopqrstuvwxyz', 'wdn_abcdefghijklmnopqrstuvwxyz,X']) expectParamError({ ...SAMPLE, hookToken: v }, 'hookToken');
    for (const v of [
      'ftp://warden.example.com',
      'warden.example.com',
      'https://user:pw@warden.example.com',
      'https://warden.example.com/?x=1',
      'https://warden.example.com/#frag',
      'https://warden.example.com:70000',
      'https://warden..example.com',
      'https://[not-ipv6]/',
      "https://warden.example.com/it's",
      'https://warden.example.com/a%22b',
    ]) {
      expectParamError({ ...SAMPLE, wardenUrl: v }, 'wardenUrl');
    }
    for (const v of ['10.8.0.0', '10.8.0.0/33', '10.8.0.5/24', '300.1.1.0/24', 'fd00::/64', '10.8.0.0/24,0.0.0.0/0']) expectParamError({ ...SAMPLE, vpnPool: v }, 'vpnPool');
    assert.throws(() => renderRouterScripts({ ...SAMPLE, vpnPool: '10.8.0.5/24' }), /did you mean 10\.8\.0\.0\/24/);
    for (const v of ['192.0.2.10/32', 'warden.example.com', '0.0.0.0/0', '0.0.0.0', '::']) expectParamError({ ...SAMPLE, wardenAddress: v }, 'wardenAddress');
  });

  it('never echoes the hook token in an error', () => {
    const secret = 'wdn_this-is-secret;but-invalid';
    assert.throws(() => renderRouterScripts({ ...SAMPLE, hookToken: secret }), (err: Error) => !err.message.includes(secret));
  });

  it('refuses one list in two roles', () => {
    expectParamError({ ...SAMPLE, chatList: SAMPLE.permitList }, 'chatList');
    expectParamError({ ...SAMPLE, banList: SAMPLE.sandboxList }, 'banList');
    expectParamError({ ...SAMPLE, permitList: SAMPLE.sandboxList }, 'permitList');
  });

  it('uses the same name rules as the hook API', () => {
    assert.equal(ROUTER_SCRIPT_PATTERNS.routerName.source, ROUTER_NAME.source);
    assert.equal(ROUTER_SCRIPT_PATTERNS.routerOsName.source, LIST_NAME.source);
  });
});

describe('router script templates', () => {
  const files = ['setup.rsc', 'ppp-on-up.rsc', 'ppp-on-down.rsc', 'wireguard-watch.rsc', 'wireguard-watch-setup.rsc'];
  const used = new Map<string, Set<string>>();
  for (const file of files) {
    const text = readFileSync(join(routerScriptTemplateDir(), file), 'utf8');
    for (const m of text.match(PLACEHOLDER) ?? []) {
      const name = m.slice(1, -1);
      if (!used.has(name)) used.set(name, new Set());
      used.get(name)!.add(file);
    }
  }

  it('use exactly the documented placeholders', () => {
    const documented = new Map(ROUTER_SCRIPT_PLACEHOLDERS.map((p) => [p.name, new Set(p.templates)]));
    assert.deepEqual([...used.keys()].sort(), [...documented.keys()].sort());
    for (const [name, where] of used) assert.deepEqual([...where].sort(), [...documented.get(name)!].sort(), name);
  });

  it('quote strings the way RouterOS reads them back', () => {
    const tricky = 'a "b" \\c $d ?e\nf\tg\rh';
    assert.equal(decodeRouterOsString(quoteRouterOsString(tricky)), tricky);
    assert.equal(quoteRouterOsString('$x'), '\\$x');
    assert.throws(() => quoteRouterOsString('é'));
  });
});
