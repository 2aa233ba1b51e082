"""Key-exchange rules: forward secrecy, the cost of DHE, the groups a TLS 1.3 hello meets, the
round trip a HelloRetryRequest adds, and post-quantum protection. Checks are pure functions of
the ScanResult."""

from __future__ import annotations

from httpsaudit.results import (
    GroupsResult,
    GroupSupport,
    KeyExchangeResult,
    ProbeId,
    ScanResult,
    Support,
)
from httpsaudit.rules.model import (
    Advice,
    Category,
    CheckContext,
    Evidence,
    Localized,
    Rule,
    ServerKind,
    Severity,
    Snippet,
    Verdict,
)
from httpsaudit.rules.protocol import AEAD_CIPHER_SNIPPETS, MOZILLA_GUIDELINES, unknown

# The smallest finite-field prime RFC 9325 and Mozilla accept: below it Logjam-style
# precomputation is within reach of a state (a 1024-bit prime is shared by millions of servers).
MIN_DH_PRIME_BITS = 2048
POST_QUANTUM_GROUP = "X25519MLKEM768"
X25519 = "x25519"
# The groups the browser-like TLS 1.3 hello lists (Chrome's and Firefox's), with one x25519 share.
BROWSER_HELLO_GROUPS = ("X25519MLKEM768", "x25519", "secp256r1", "secp384r1")
# The lists to advise: Mozilla's (guidelines 6.0) with the hybrid first where the library has
# it (OpenSSL 3.5 and later), and without it for older libraries, which refuse the name.
CLASSICAL_GROUPS_OPENSSL = "X25519:prime256v1:secp384r1"
HYBRID_GROUPS_OPENSSL = f"{POST_QUANTUM_GROUP}:{CLASSICAL_GROUPS_OPENSSL}"
DHE_KEY_EXCHANGE = "DHE"


def _key_exchange(scan: ScanResult) -> KeyExchangeResult:
    result = scan.key_exchange.result
    if result is None:  # the engine checks requires first; this keeps mypy honest
        raise ValueError("key exchange probe result missing")
    return result


def _groups(scan: ScanResult) -> GroupsResult:
    result = scan.groups.result
    if result is None:
        raise ValueError("groups probe result missing")
    return result


def _is_hybrid(group: str) -> bool:
    """The ML-KEM hybrids; their classical half does not make them classical groups."""
    return "MLKEM" in group


def _tls13_supported(groups: GroupsResult) -> tuple[str, ...]:
    return tuple(entry.group for entry in groups.groups if entry.tls13 is Support.SUPPORTED)


def _entry(groups: GroupsResult, name: str) -> GroupSupport | None:
    return next((entry for entry in groups.groups if entry.group == name), None)


def _tls13_tested(groups: GroupsResult) -> bool:
    """TLS 1.3 groups were asked about (the server speaks TLS 1.3)."""
    return any(entry.tls13 is not Support.NOT_TESTED for entry in groups.groups)


def _browser_key_exchange(scan: ScanResult) -> tuple[KeyExchangeResult, Evidence, str | None]:
    """The TLS 1.2 key exchange a browser gets, its evidence, and why the question is moot."""
    result = _key_exchange(scan)
    evidence: Evidence = {
        "key_exchange": result.kind,
        "cipher_suite": result.cipher_suite,
        "group": result.group,
        "dh_prime_bits": result.dh_prime_bits,
        "static_rsa_accepted": result.static_rsa_accepted,
    }
    moot = None
    if not result.tls12_supported:
        moot = "TLS 1.2 is not offered; every TLS 1.3 key exchange is ephemeral"
    elif result.kind is None:
        moot = "the browser-like TLS 1.2 hello was refused, so no key exchange was chosen"
    return result, evidence, moot


# -- KEX001-KEX004: TLS 1.2 key exchange ---------------------------------------------------


def no_forward_secrecy(scan: ScanResult, context: CheckContext) -> Verdict:
    """A browser-like TLS 1.2 offer ends in RSA key transport."""
    result, evidence, moot = _browser_key_exchange(scan)
    if moot is not None:
        return Verdict.not_applicable(moot, evidence)
    return Verdict.failed(evidence) if result.kind == "RSA" else Verdict.passed(evidence)


def static_rsa_accepted(scan: ScanResult, context: CheckContext) -> Verdict:
    """Any RSA key-transport suite accepted, even if browsers get ECDHE."""
    result, evidence, _moot = _browser_key_exchange(scan)
    if not result.tls12_supported:
        return Verdict.not_applicable("TLS 1.2 is not offered", evidence)
    if result.static_rsa_accepted is None:
        return unknown("the hello offering only RSA key transport got no clear answer", evidence)
    return Verdict.failed(evidence) if result.static_rsa_accepted else Verdict.passed(evidence)


def dhe_chosen(scan: ScanResult, context: CheckContext) -> Verdict:
    """A browser-like offer (ECDHE listed first) ends in finite-field DHE."""
    result, evidence, moot = _browser_key_exchange(scan)
    if moot is not None:
        return Verdict.not_applicable(moot, evidence)
    return Verdict.failed(evidence) if result.kind == DHE_KEY_EXCHANGE else Verdict.passed(evidence)


def weak_dh_prime(scan: ScanResult, context: CheckContext) -> Verdict:
    """The DHE prime a client offering DHE gets is below 2048 bits."""
    bits = _groups(scan).dhe_prime_bits
    evidence: Evidence = {"dh_prime_bits": bits, "min_dh_prime_bits": MIN_DH_PRIME_BITS}
    if bits is None:
        return Verdict.not_applicable("no DHE key exchange is accepted in TLS 1.2", evidence)
    return Verdict.failed(evidence) if bits < MIN_DH_PRIME_BITS else Verdict.passed(evidence)


NO_FORWARD_SECRECY = Rule(
    id="KEX001",
    name="no-forward-secrecy",
    severity=Severity.HIGH,
    category=Category.SECURITY,
    title=Localized(
        en="Browsers get RSA key transport in TLS 1.2 ({cipher_suite}): no forward secrecy",
        zh="浏览器在 TLS 1.2 中被分配 RSA 密钥传输({cipher_suite}):没有前向保密",
    ),
    why=Localized(
        en="With RSA key transport the client encrypts the session secret to the server's "
        "certificate key. Whoever obtains that key later (a breach, a subpoena, a discarded "
        "disk) can decrypt every session ever recorded. ECDHE makes a fresh secret per "
        "connection, and TLS 1.3 removed RSA key transport for this reason.",
        zh="使用 RSA 密钥传输时,客户端用服务器证书的公钥加密会话密钥。日后任何拿到这把私钥的人"
        "(入侵、法律调取、废弃的硬盘)都能解密过去录下的全部会话。ECDHE 为每个连接生成新的"
        "密钥,TLS 1.3 正是因此取消了 RSA 密钥传输。",
    ),
    requires=(ProbeId.KEY_EXCHANGE,),
    check=no_forward_secrecy,
    advice=Advice(
        summary=Localized(
            en="Put ECDHE suites first, or offer nothing else: every browser since 2013 "
            "speaks ECDHE, and the list below has only ECDHE with AEAD ciphers.",
            zh="把 ECDHE 套件排在最前,或者只提供 ECDHE:2013 年以来的所有浏览器都支持 ECDHE,"
            "下面的列表只包含 ECDHE + AEAD 套件。",
        ),
        snippets=AEAD_CIPHER_SNIPPETS,
        references=(
            "RFC 9325",
            "draft-ietf-tls-deprecate-obsolete-kex",
            "RFC 8446 §1.2",
            MOZILLA_GUIDELINES,
        ),
    ),
)

STATIC_RSA_ACCEPTED = Rule(
    id="KEX002",
    name="static-rsa-accepted",
    severity=Severity.LOW,
    category=Category.SECURITY,
    title=Localized(
        en="RSA key transport is still accepted in TLS 1.2 (browsers get {key_exchange})",
        zh="TLS 1.2 仍接受 RSA 密钥传输(浏览器得到的是 {key_exchange})",
    ),
    why=Localized(
        en="Even when browsers get ECDHE, a client that offers only TLS_RSA_* suites gets a "
        "session without forward secrecy, and the RSA decryption the server does for it is "
        "what padding-oracle attacks such as ROBOT and Bleichenbacher's probe for. No current "
        "client needs RSA key transport.",
        zh="即使浏览器拿到的是 ECDHE,只提供 TLS_RSA_* 套件的客户端仍会得到没有前向保密的会话,"
        "而服务器为此做的 RSA 解密,正是 ROBOT、Bleichenbacher 等填充预言攻击所要探测的。"
        "现今没有任何客户端需要 RSA 密钥传输。",
    ),
    requires=(ProbeId.KEY_EXCHANGE,),
    check=static_rsa_accepted,
    advice=Advice(
        summary=Localized(
            en="Drop the TLS_RSA_* suites (AES128-GCM-SHA256, AES256-SHA and the like in "
            "OpenSSL's names); the list below keeps only ECDHE.",
            zh="去掉 TLS_RSA_* 套件(在 OpenSSL 中叫 AES128-GCM-SHA256、AES256-SHA 之类);"
            "下面的列表只保留 ECDHE。",
        ),
        snippets=AEAD_CIPHER_SNIPPETS,
        references=(
            "https://robotattack.org",
            "draft-ietf-tls-deprecate-obsolete-kex",
            MOZILLA_GUIDELINES,
        ),
    ),
)

DHE_CHOSEN = Rule(
    id="KEX003",
    name="dhe-chosen",
    severity=Severity.MEDIUM,
    category=Category.LATENCY,
    title=Localized(
        en="A browser-like TLS 1.2 offer that lists ECDHE first gets DHE ({cipher_suite}, "
        "{dh_prime_bits}-bit prime)",
        zh="把 ECDHE 排在前面的类浏览器 TLS 1.2 握手却得到了 DHE({cipher_suite},"
        "{dh_prime_bits} 位素数)",
    ),
    why=Localized(
        en="Finite-field DHE is slow and large: a 2048-bit exchange costs the server several "
        "times the CPU of x25519 and adds about 500 bytes to its first flight, more with "
        "bigger primes. Browsers no longer offer DHE at all (Chrome removed it in 2016, "
        "Firefox in 2020) and never False Start after it, so it only serves older non-browser "
        "clients, which also speak ECDHE.",
        zh="有限域 DHE 又慢又大:一次 2048 位交换耗费的服务器 CPU 是 x25519 的数倍,首个握手"
        "消息还要多出约 500 字节,素数越大越多。浏览器已完全不再提供 DHE(Chrome 于 2016 年、"
        "Firefox 于 2020 年移除),也从不在 DHE 之后使用 False Start,所以它只服务于较老的"
        "非浏览器客户端,而它们同样支持 ECDHE。",
    ),
    requires=(ProbeId.KEY_EXCHANGE,),
    check=dhe_chosen,
    advice=Advice(
        summary=Localized(
            en="Put ECDHE before DHE, or drop DHE as Mozilla's intermediate configuration "
            "now does; the list below has ECDHE only.",
            zh="把 ECDHE 排在 DHE 之前,或者像 Mozilla 现行中级配置那样直接去掉 DHE;"
            "下面的列表只有 ECDHE。",
        ),
        snippets={
            **AEAD_CIPHER_SNIPPETS,
            ServerKind.CADDY: Snippet(
                "# Caddy (Go's crypto/tls) has no DHE suites: if it answers for this site,\n"
                "# DHE comes from another TLS terminator in front of it.",
                not_configurable=True,
            ),
        },
        references=("RFC 7919 §1", "draft-ietf-tls-deprecate-obsolete-kex", MOZILLA_GUIDELINES),
    ),
)

WEAK_DH_PRIME = Rule(
    id="KEX004",
    name="weak-dh-prime",
    severity=Severity.HIGH,
    category=Category.SECURITY,
    title=Localized(
        en="DHE uses a {dh_prime_bits}-bit prime, below {min_dh_prime_bits} bits",
        zh="DHE 使用 {dh_prime_bits} 位素数,低于 {min_dh_prime_bits} 位",
    ),
    why=Localized(
        en="The discrete logarithm for a 1024-bit prime is within a nation state's reach, and "
        "one precomputation breaks every server sharing that prime (Logjam, 2015). Any client "
        "that offers DHE and gets this prime can be passively decrypted by such an attacker.",
        zh="1024 位素数的离散对数已在国家级攻击者的能力范围内,而且一次预计算就能攻破所有共用该"
        "素数的服务器(Logjam,2015)。任何提供 DHE 并拿到这个素数的客户端,都可能被这样的攻击者"
        "被动解密。",
    ),
    requires=(ProbeId.GROUPS,),
    check=weak_dh_prime,
    advice=Advice(
        summary=Localized(
            en="Drop DHE (ECDHE serves every client that matters), or serve the RFC 7919 "
            "ffdhe2048 group, which is at least {min_dh_prime_bits} bits and vetted.",
            zh="去掉 DHE(ECDHE 能服务所有重要的客户端),或者使用经过审查的 RFC 7919 ffdhe2048 "
            "组,长度不少于 {min_dh_prime_bits} 位。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "# openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 "
                "-out /etc/nginx/ffdhe2048.pem\n"
                "ssl_dhparam /etc/nginx/ffdhe2048.pem;"
            ),
            ServerKind.APACHE: Snippet(
                "# openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 "
                "-out /etc/ssl/ffdhe2048.pem\n"
                'SSLOpenSSLConfCmd DHParameters "/etc/ssl/ffdhe2048.pem"'
            ),
            ServerKind.HAPROXY: Snippet(
                "# openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 "
                "-out /etc/haproxy/ffdhe2048.pem\n"
                "global\n    ssl-dh-param-file /etc/haproxy/ffdhe2048.pem"
            ),
            ServerKind.CADDY: Snippet(
                "# Caddy (Go's crypto/tls) has no DHE suites: a weak DH prime comes from\n"
                "# another TLS terminator in front of it.",
                not_configurable=True,
            ),
        },
        references=("https://weakdh.org", "RFC 7919 §3", "RFC 9325", MOZILLA_GUIDELINES),
    ),
)


# -- KEX005-KEX008: TLS 1.3 groups ---------------------------------------------------------


def x25519_not_supported(scan: ScanResult, context: CheckContext) -> Verdict:
    """x25519 refused in TLS 1.3 (or in TLS 1.2 when that is all the server speaks)."""
    groups = _groups(scan)
    x25519 = _entry(groups, X25519)
    if x25519 is None:
        return Verdict.not_applicable("x25519 was not among the groups tested")
    tls13 = _tls13_tested(groups)
    verdict = x25519.tls13 if tls13 else x25519.tls12
    supported = tuple(
        entry.group
        for entry in groups.groups
        if (entry.tls13 if tls13 else entry.tls12) is Support.SUPPORTED
    )
    evidence: Evidence = {
        "version": "TLSv1.3" if tls13 else "TLSv1.2",
        "supported_groups": supported,
    }
    if verdict is Support.SUPPORTED:
        return Verdict.passed(evidence)
    if not any(name.startswith(("x", "secp")) for name in supported):
        # No elliptic curve at all: TLS 1.2 without ECDHE, which KEX001 and KEX003 judge.
        return Verdict.not_applicable("no elliptic-curve group is accepted at all", evidence)
    if verdict is Support.NOT_SUPPORTED:
        return Verdict.failed(evidence)
    if verdict is Support.NOT_TESTED:
        return Verdict.not_applicable("neither TLS 1.3 nor TLS 1.2 is offered", evidence)
    return unknown("the answers about x25519 did not settle whether it is accepted", evidence)


def x25519_not_preferred(scan: ScanResult, context: CheckContext) -> Verdict:
    """The server ranks a classical group above x25519 in TLS 1.3 (hybrids aside)."""
    groups = _groups(scan)
    evidence: Evidence = {
        "preference_kind": groups.tls13_preference_kind,
        "tls13_preference": groups.tls13_preference,
        "preferred_groups": (),
    }
    if X25519 not in _tls13_supported(groups):
        return Verdict.not_applicable("x25519 is not offered in TLS 1.3 (see KEX005)", evidence)
    if groups.tls13_preference_kind == "client":
        return Verdict.passed(evidence)  # the client's order wins: browsers list x25519 first
    if groups.tls13_preference_kind not in {"server", "tiered", "single"}:
        return unknown("the server's group order could not be read", evidence)
    first_tier = next(
        (
            tuple(group for group in tier if not _is_hybrid(group))
            for tier in groups.tls13_preference_tiers
            if any(not _is_hybrid(group) for group in tier)
        ),
        (),
    )
    evidence = {**evidence, "preferred_groups": first_tier}
    if not first_tier and groups.tls13_unranked_groups:
        # Only hybrids were ranked; the classical groups sit in the unranked rest, whose order
        # the probe's capped rounds did not settle (they all rank below the ranked ones).
        return unknown("the order of the classical groups was not determined", evidence)
    return Verdict.passed(evidence) if X25519 in first_tier else Verdict.failed(evidence)


def browser_hello_retry(scan: ScanResult, context: CheckContext) -> Verdict:
    """A browser-like TLS 1.3 hello (one x25519 share) is answered with a HelloRetryRequest."""
    groups = _groups(scan)
    evidence: Evidence = {
        "browser_hello_group": groups.browser_hello_group,
        "browser_groups": BROWSER_HELLO_GROUPS,
        "tls13_preference": groups.tls13_preference,
    }
    if not _tls13_tested(groups):
        return Verdict.not_applicable("TLS 1.3 is not offered (see TLS001)", evidence)
    if groups.browser_hello_retry is None:
        return unknown("the browser-like TLS 1.3 hello got no TLS 1.3 answer", evidence)
    if not groups.browser_hello_retry:
        return Verdict.passed(evidence)
    if groups.browser_hello_group is not None and _is_hybrid(groups.browser_hello_group):
        return Verdict.failed(
            evidence,
            message=Localized(
                en="A hello listing {browser_groups} with only an x25519 key share is asked "
                "to retry for {browser_hello_group}: 1 more round trip (about {saved_ms} ms) "
                "for clients that list the hybrid without sending its share",
                zh="列出 {browser_groups} 但只带 x25519 密钥共享的握手被要求改用 "
                "{browser_hello_group} 重试:对列出混合组却不发送其密钥共享的客户端,"
                "要多 1 个往返(约 {saved_ms} 毫秒)",
            ),
            saving=context.saving(1),
        )
    return Verdict.failed(
        evidence,
        message=Localized(
            en="A browser-like TLS 1.3 hello (an x25519 key share) is asked to retry for "
            "{browser_hello_group}: 1 more round trip, about {saved_ms} ms, on every new "
            "connection",
            zh="类浏览器的 TLS 1.3 握手(带 x25519 密钥共享)被要求改用 {browser_hello_group} "
            "重试:每个新连接多 1 个往返,约 {saved_ms} 毫秒",
        ),
        saving=context.saving(1),
    )


def no_post_quantum_hybrid(scan: ScanResult, context: CheckContext) -> Verdict:
    """X25519MLKEM768 not accepted in TLS 1.3."""
    groups = _groups(scan)
    supported = _tls13_supported(groups)
    evidence: Evidence = {
        "tls13_groups": supported,
        "hybrid_groups": tuple(group for group in supported if _is_hybrid(group)),
    }
    if not _tls13_tested(groups):
        return Verdict.not_applicable("TLS 1.3 is not offered (see TLS001)", evidence)
    hybrid = _entry(groups, POST_QUANTUM_GROUP)
    if hybrid is None or hybrid.tls13 is Support.UNKNOWN:
        return unknown(f"{POST_QUANTUM_GROUP} support could not be read", evidence)
    if hybrid.tls13 is Support.SUPPORTED:
        return Verdict.passed(evidence)
    return Verdict.failed(evidence)


GROUP_SNIPPETS = {
    ServerKind.NGINX: Snippet(
        f"ssl_ecdh_curve {CLASSICAL_GROUPS_OPENSSL};\n"
        f"# with OpenSSL 3.5 or later (nginx -V): ssl_ecdh_curve {HYBRID_GROUPS_OPENSSL};"
    ),
    ServerKind.APACHE: Snippet(
        f"SSLOpenSSLConfCmd Curves {CLASSICAL_GROUPS_OPENSSL}\n"
        f"# with OpenSSL 3.5 or later: SSLOpenSSLConfCmd Curves {HYBRID_GROUPS_OPENSSL}"
    ),
    ServerKind.HAPROXY: Snippet(
        "global\n    ssl-default-bind-curves X25519:P-256:P-384\n"
        "# with OpenSSL 3.5 or later: ssl-default-bind-curves X25519MLKEM768:X25519:P-256:P-384"
    ),
    ServerKind.CADDY: Snippet(
        "tls {\n    curves x25519mlkem768 x25519 secp256r1 secp384r1\n}\n"
        "# x25519mlkem768 needs Caddy 2.10 or later; earlier: curves x25519 secp256r1 secp384r1"
    ),
}

X25519_NOT_SUPPORTED = Rule(
    id="KEX005",
    name="x25519-not-supported",
    severity=Severity.LOW,
    category=Category.LATENCY,
    title=Localized(
        en="x25519 is not accepted in {version} (groups: {supported_groups})",
        zh="{version} 不接受 x25519(支持的组:{supported_groups})",
    ),
    why=Localized(
        en="x25519 is the group every browser sends a key share for. A TLS 1.3 server "
        "without it must ask for another share with a HelloRetryRequest, one more round trip "
        "per new connection (KEX007 measures it), or find a share it can use. It is also the "
        "fastest classical group and the simplest to implement without timing leaks.",
        zh="x25519 是所有浏览器都会发送密钥共享的组。不支持它的 TLS 1.3 服务器只能用 "
        "HelloRetryRequest 要求客户端换一个密钥共享,每个新连接多一个往返(KEX007 会实测),"
        "或者碰巧找到可用的共享。它也是最快的经典组,且最容易实现成没有计时泄露的代码。",
    ),
    requires=(ProbeId.GROUPS,),
    check=x25519_not_supported,
    advice=Advice(
        summary=Localized(
            en="Put x25519 in the server's group list, first among the classical groups, as "
            "Mozilla recommends: X25519MLKEM768 (where available), X25519, P-256, P-384.",
            zh="按照 Mozilla 的建议把 x25519 加入服务器的组列表,并排在经典组之首:"
            "X25519MLKEM768(如果可用)、X25519、P-256、P-384。",
        ),
        snippets=GROUP_SNIPPETS,
        references=("RFC 7748", "RFC 8446 §4.2.7", MOZILLA_GUIDELINES),
    ),
)

X25519_NOT_PREFERRED = Rule(
    id="KEX006",
    name="x25519-not-preferred",
    severity=Severity.INFO,
    category=Category.LATENCY,
    title=Localized(
        en="The server ranks {preferred_groups} above x25519 in TLS 1.3 (its order: "
        "{tls13_preference})",
        zh="服务器在 TLS 1.3 中把 {preferred_groups} 排在 x25519 之前(其顺序:{tls13_preference})",
    ),
    why=Localized(
        en="A server's group order decides what a client gets when it sent shares for several "
        "groups, and which share a HelloRetryRequest asks for. Ranking P-256 or P-384 above "
        "x25519 picks a slower exchange, and asks browsers, which share x25519, for a share "
        "they did not send.",
        zh="服务器的组顺序决定了客户端同时发送多个组的密钥共享时选用哪一个,以及 "
        "HelloRetryRequest 要求哪个组。把 P-256 或 P-384 排在 x25519 之前,会选中更慢的交换,"
        "还会向只发送 x25519 共享的浏览器索要它们没发的共享。",
    ),
    requires=(ProbeId.GROUPS,),
    check=x25519_not_preferred,
    advice=Advice(
        summary=Localized(
            en="List X25519 first among the classical groups (after X25519MLKEM768 where the "
            "library has it).",
            zh="把 X25519 排在经典组的第一位(库支持时放在 X25519MLKEM768 之后)。",
        ),
        snippets=GROUP_SNIPPETS,
        references=("RFC 8446 §4.2.7", MOZILLA_GUIDELINES),
    ),
)

BROWSER_HELLO_RETRY = Rule(
    id="KEX007",
    name="browser-hello-retry",
    severity=Severity.MEDIUM,
    category=Category.LATENCY,
    title=Localized(
        en="A browser-like TLS 1.3 hello costs a HelloRetryRequest for {browser_hello_group}",
        zh="类浏览器的 TLS 1.3 握手被要求以 {browser_hello_group} 重试(HelloRetryRequest)",
    ),
    why=Localized(
        en="A TLS 1.3 client guesses the server's group and sends a key share for it with its "
        "first flight, browsers for x25519 (and X25519MLKEM768). When the server wants another "
        "group it answers with a HelloRetryRequest and the client must start again: the "
        "1-round-trip handshake becomes 2, on every new connection.",
        zh="TLS 1.3 客户端会猜测服务器的组,并在首个握手消息里附上该组的密钥共享,浏览器附的是 "
        "x25519(以及 X25519MLKEM768)。如果服务器想要别的组,就会回一个 HelloRetryRequest,"
        "客户端只能重来:每个新连接的握手从 1 个往返变成 2 个。",
    ),
    requires=(ProbeId.GROUPS,),
    check=browser_hello_retry,
    advice=Advice(
        summary=Localized(
            en="Accept x25519 and do not rank another group above a share the client already "
            "sent. That saves {saved_round_trips} round trip, about {saved_ms} ms per new "
            "connection at your measured RTT. With OpenSSL 3.5 or later, keep X25519MLKEM768 "
            "and X25519 in one tier (a plain colon-separated list) so a client that shared "
            "only x25519 is not sent back.",
            zh="接受 x25519,并且不要把其它组排在客户端已发送的密钥共享之前。这样每个新连接可"
            "节省 {saved_round_trips} 个往返,按实测 RTT 约 {saved_ms} 毫秒。使用 OpenSSL 3.5 "
            "或更新版本时,把 X25519MLKEM768 和 X25519 放在同一层级(只用冒号分隔的列表),"
            "这样只发送了 x25519 共享的客户端不会被打回重来。",
        ),
        snippets=GROUP_SNIPPETS,
        references=("RFC 8446 §4.1.4", "RFC 8446 §4.2.8", MOZILLA_GUIDELINES),
    ),
)

NO_POST_QUANTUM_HYBRID = Rule(
    id="KEX008",
    name="no-post-quantum-hybrid",
    severity=Severity.LOW,
    category=Category.SECURITY,
    title=Localized(
        en="X25519MLKEM768 is not accepted in TLS 1.3 (groups: {tls13_groups})",
        zh="TLS 1.3 不接受 X25519MLKEM768(支持的组:{tls13_groups})",
    ),
    why=Localized(
        en="Traffic recorded today can be decrypted once a large quantum computer breaks "
        "x25519 and P-256 (harvest now, decrypt later). The hybrid X25519MLKEM768 adds ML-KEM "
        "(FIPS 203) to x25519, so a session stays secret unless both fall. Chrome, Firefox, "
        "Edge and Safari 26 already send it, and Mozilla's guidelines list it first; the cost "
        "is about 1 KB more in each direction, within the same round trip.",
        zh="今天被录下的流量,一旦大型量子计算机攻破 x25519 和 P-256 就能被解密(先存储、后解密)。"
        "混合组 X25519MLKEM768 在 x25519 之外加上 ML-KEM(FIPS 203),两者都被攻破会话才会泄露。"
        "Chrome、Firefox、Edge 和 Safari 26 已经默认发送它,Mozilla 的指南也把它排在首位;"
        "代价是每个方向多约 1 KB,仍在同一个往返之内。",
    ),
    requires=(ProbeId.GROUPS,),
    check=no_post_quantum_hybrid,
    advice=Advice(
        summary=Localized(
            en="Offer X25519MLKEM768 first: it needs a TLS library that has ML-KEM (OpenSSL "
            "3.5 or later, Go 1.24 / Caddy 2.10 or later, BoringSSL, AWS-LC). Older libraries "
            "refuse the group name, so upgrade first.",
            zh="把 X25519MLKEM768 放在首位:这需要支持 ML-KEM 的 TLS 库(OpenSSL 3.5 及以上、"
            "Go 1.24 / Caddy 2.10 及以上、BoringSSL、AWS-LC)。旧版本的库不认识这个组名,"
            "请先升级。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "# needs nginx linked with OpenSSL 3.5 or later (check: nginx -V)\n"
                f"ssl_ecdh_curve {HYBRID_GROUPS_OPENSSL};"
            ),
            ServerKind.APACHE: Snippet(
                "# needs mod_ssl linked with OpenSSL 3.5 or later\n"
                f"SSLOpenSSLConfCmd Curves {HYBRID_GROUPS_OPENSSL}"
            ),
            ServerKind.HAPROXY: Snippet(
                "# needs HAProxy linked with OpenSSL 3.5 or later (or AWS-LC)\n"
                "global\n    ssl-default-bind-curves X25519MLKEM768:X25519:P-256:P-384"
            ),
            ServerKind.CADDY: Snippet(
                "# Caddy 2.10 and later offer it by default; remove a 'curves' line that\n"
                "# leaves it out, or list it first:\n"
                "tls {\n    curves x25519mlkem768 x25519 secp256r1 secp384r1\n}"
            ),
        },
        references=(
            "draft-ietf-tls-ecdhe-mlkem",
            "FIPS 203",
            "https://ssl-config.mozilla.org/guidelines/6.0.json",
        ),
    ),
)


# -- KEX009: client simulation -------------------------------------------------------------


def simulated_clients_retry(scan: ScanResult, context: CheckContext) -> Verdict:
    """Real clients' first flights, replayed: those answered with a HelloRetryRequest."""
    simulation = scan.client_simulation.result
    if simulation is None:
        raise ValueError("client simulation probe result missing")
    tls13 = [client for client in simulation.clients if client.version == "TLSv1.3"]
    retrying = tuple(
        f"{client.client}: {client.group}" for client in tls13 if client.hello_retry_request
    )
    evidence: Evidence = {
        "retrying_clients": retrying,
        "retrying_count": len(retrying),
        "tls13_clients": len(tls13),
    }
    if not tls13:
        return Verdict.not_applicable("no simulated client got TLS 1.3", evidence)
    if not retrying:
        return Verdict.passed(evidence)
    return Verdict.failed(evidence, saving=context.saving(1))


SIMULATED_CLIENTS_RETRY = Rule(
    id="KEX009",
    name="simulated-clients-retry",
    severity=Severity.LOW,
    category=Category.LATENCY,
    title=Localized(
        en="{retrying_count} of {tls13_clients} simulated TLS 1.3 clients pay a "
        "HelloRetryRequest: {retrying_clients}",
        zh="{tls13_clients} 个模拟 TLS 1.3 客户端中有 {retrying_count} 个需要 "
        "HelloRetryRequest:{retrying_clients}",
    ),
    why=Localized(
        en="These are the exact first flights of real clients. Each one named here sent key "
        "shares the server would not use, so its handshake takes 2 round trips instead of 1 "
        "on every new connection; the group in brackets is the one the server asked for.",
        zh="这些是真实客户端的原样首个握手消息。这里列出的每个客户端发送的密钥共享都没被服务器"
        "采用,所以每个新连接的握手从 1 个往返变成 2 个;括号里是服务器要求的组。",
    ),
    requires=(ProbeId.CLIENT_SIMULATION,),
    check=simulated_clients_retry,
    advice=Advice(
        summary=Localized(
            en="Accept the groups these clients share (x25519 above all) and let a share the "
            "client sent win over your ranking: {saved_round_trips} round trip saved, about "
            "{saved_ms} ms per new connection for each of them.",
            zh="接受这些客户端发送共享的组(首先是 x25519),并让客户端已发送的共享优先于你的排序:"
            "每个新连接可为它们各节省 {saved_round_trips} 个往返,约 {saved_ms} 毫秒。",
        ),
        snippets=GROUP_SNIPPETS,
        references=("RFC 8446 §4.1.4", MOZILLA_GUIDELINES),
    ),
)

RULES: tuple[Rule, ...] = (
    NO_FORWARD_SECRECY,
    STATIC_RSA_ACCEPTED,
    DHE_CHOSEN,
    WEAK_DH_PRIME,
    X25519_NOT_SUPPORTED,
    X25519_NOT_PREFERRED,
    BROWSER_HELLO_RETRY,
    NO_POST_QUANTUM_HYBRID,
    SIMULATED_CLIENTS_RETRY,
)
