"""Protocol-version rules: what a new connection costs in round trips, and what old versions
risk. Checks are pure functions of the ScanResult."""

from __future__ import annotations

from collections.abc import Callable

from httpsaudit.results import (
    CipherSuiteInfo,
    CipherSuitesResult,
    DowngradeResult,
    ProbeId,
    ScanResult,
    Support,
    VersionCipherSuites,
    VersionsResult,
)
from httpsaudit.rules.model import (
    Advice,
    Category,
    CheckContext,
    Evidence,
    Localized,
    Rule,
    RuleStatus,
    ServerKind,
    Severity,
    Snippet,
    Verdict,
)

OLD_VERSIONS = ("SSLv3", "TLSv1.0", "TLSv1.1")


def _versions(scan: ScanResult) -> VersionsResult:
    result = scan.versions.result
    if result is None:  # the engine checks requires first; this keeps mypy honest
        raise ValueError("versions probe result missing")
    return result


def tls13_disabled(scan: ScanResult, context: CheckContext) -> Verdict:
    """TLS 1.3 offered: pass. Otherwise a full handshake costs one more round trip."""
    versions = _versions(scan)
    evidence: Evidence = {"offered_versions": versions.supported}
    if "TLSv1.3" in versions.supported:
        return Verdict.passed(evidence)
    if not versions.supported:
        return Verdict.not_applicable("the server accepted no protocol version", evidence)
    return Verdict.failed(evidence, saving=context.saving(1))


def old_versions_offered(scan: ScanResult, context: CheckContext) -> Verdict:
    """SSL 3.0, TLS 1.0 or 1.1 accepted (RFC 8996 deprecates TLS 1.0 and 1.1)."""
    versions = _versions(scan)
    old = tuple(
        entry.version
        for entry in versions.versions
        if entry.version in OLD_VERSIONS and entry.support is Support.SUPPORTED
    )
    evidence: Evidence = {"old_versions": old, "offered_versions": versions.supported}
    return Verdict.failed(evidence) if old else Verdict.passed(evidence)


TLS13_DISABLED = Rule(
    id="TLS001",
    name="tls13-disabled",
    severity=Severity.HIGH,
    category=Category.LATENCY,
    title=Localized(
        en="TLS 1.3 is not offered (offered: {offered_versions})",
        zh="服务器未启用 TLS 1.3(当前支持:{offered_versions})",
    ),
    why=Localized(
        en="A full TLS 1.3 handshake takes 1 round trip; TLS 1.2 takes 2 (1 only with False "
        "Start). TLS 1.3 also drops every legacy cipher and is the only way to 0-RTT.",
        zh="TLS 1.3 完整握手只需 1 个往返,TLS 1.2 需要 2 个(False Start 时为 1 个)。"
        "TLS 1.3 同时去掉了所有过时的密码套件,也是实现 0-RTT 的唯一途径。",
    ),
    requires=(ProbeId.VERSIONS,),
    check=tls13_disabled,
    advice=Advice(
        summary=Localized(
            en="Enable TLS 1.3 next to TLS 1.2: it saves {saved_round_trips} round trip, "
            "about {saved_ms} ms per new connection at your measured RTT.",
            zh="在 TLS 1.2 之外启用 TLS 1.3:每个新连接节省 {saved_round_trips} 个往返,"
            "按实测 RTT 约 {saved_ms} 毫秒。",
        ),
        snippets={
            ServerKind.NGINX: Snippet("ssl_protocols TLSv1.2 TLSv1.3;"),
            ServerKind.APACHE: Snippet("SSLProtocol -all +TLSv1.2 +TLSv1.3"),
            ServerKind.HAPROXY: Snippet(
                "global\n    ssl-default-bind-options ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.3"
            ),
            ServerKind.CADDY: Snippet("tls {\n    protocols tls1.2 tls1.3\n}"),
        },
        references=("RFC 8446 §2", "https://wiki.mozilla.org/Security/Server_Side_TLS"),
    ),
)

OLD_VERSIONS_OFFERED = Rule(
    id="TLS002",
    name="old-versions-offered",
    severity=Severity.MEDIUM,
    category=Category.SECURITY,
    title=Localized(
        en="Deprecated protocol versions are accepted: {old_versions}",
        zh="服务器仍接受已废弃的协议版本:{old_versions}",
    ),
    why=Localized(
        en="SSL 3.0, TLS 1.0 and TLS 1.1 are deprecated (RFC 8996): they rely on SHA-1 and "
        "CBC constructions with known attacks, and no current browser needs them.",
        zh="SSL 3.0、TLS 1.0 和 TLS 1.1 已被 RFC 8996 废弃:它们依赖 SHA-1 和存在已知攻击的 "
        "CBC 构造,现代浏览器都不再需要。",
    ),
    requires=(ProbeId.VERSIONS,),
    check=old_versions_offered,
    advice=Advice(
        summary=Localized(
            en="Accept TLS 1.2 and TLS 1.3 only.",
            zh="只接受 TLS 1.2 和 TLS 1.3。",
        ),
        snippets={
            ServerKind.NGINX: Snippet("ssl_protocols TLSv1.2 TLSv1.3;"),
            ServerKind.APACHE: Snippet("SSLProtocol -all +TLSv1.2 +TLSv1.3"),
            ServerKind.HAPROXY: Snippet("global\n    ssl-default-bind-options ssl-min-ver TLSv1.2"),
            ServerKind.CADDY: Snippet("tls {\n    protocols tls1.2 tls1.3\n}"),
        },
        references=("RFC 8996",),
    ),
)


# -- Shared advice: the TLS 1.2 suites worth keeping ---------------------------------------

# Mozilla's intermediate configuration (guidelines 6.0): ECDHE with an AEAD cipher only,
# AES-128 before AES-256, and ChaCha20 for clients without AES hardware. Every browser since
# 2014 speaks one of them, and none blocks False Start, forward secrecy or needs a legacy mode.
AEAD_TLS12_OPENSSL = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    )
)
AEAD_TLS12_IANA = " ".join(
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    )
)
MOZILLA_GUIDELINES = "https://wiki.mozilla.org/Security/Server_Side_TLS"
# The same list for every server: replacing the cipher list is the whole fix for CBC, 3DES, RC4,
# static RSA, DHE and a False Start blocked by the suite.
AEAD_CIPHER_SNIPPETS = {
    ServerKind.NGINX: Snippet(f"ssl_ciphers {AEAD_TLS12_OPENSSL};\nssl_prefer_server_ciphers off;"),
    ServerKind.APACHE: Snippet(f"SSLCipherSuite {AEAD_TLS12_OPENSSL}\nSSLHonorCipherOrder off"),
    ServerKind.HAPROXY: Snippet(
        f"global\n    ssl-default-bind-ciphers {AEAD_TLS12_OPENSSL}\n"
        "    ssl-default-bind-options prefer-client-ciphers"
    ),
    ServerKind.CADDY: Snippet(f"tls {{\n    ciphers {AEAD_TLS12_IANA}\n}}"),
}


def unknown(reason: str, evidence: Evidence) -> Verdict:
    """The probe ran but its answer cannot settle the question: unknown, never passed."""
    return Verdict(RuleStatus.UNKNOWN, {"reason": reason, **evidence})


def _suites_where(
    scan: ScanResult, wanted: Callable[[CipherSuiteInfo], bool]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(suite names, versions) of every accepted suite ``wanted`` picks, newest version first."""
    result = _cipher_suites(scan)
    names: dict[str, None] = {}
    versions: list[str] = []
    for version in result.versions:
        picked = [suite.name for suite in version.accepted if wanted(suite)]
        if picked:
            versions.append(version.version)
            names.update(dict.fromkeys(picked))
    return tuple(names), tuple(versions)


def _cipher_suites(scan: ScanResult) -> CipherSuitesResult:
    result = scan.cipher_suites.result
    if result is None:
        raise ValueError("cipher suites probe result missing")
    return result


# -- TLS003: False Start -------------------------------------------------------------------


def false_start_ineligible(scan: ScanResult, context: CheckContext) -> Verdict:
    """Without TLS 1.3, a browser's TLS 1.2 handshake costs 2 round trips unless it False Starts."""
    versions = _versions(scan)
    false_start = scan.false_start.result
    if false_start is None:
        raise ValueError("false start probe result missing")
    evidence: Evidence = {
        "reasons": false_start.reasons,
        "cipher_suite": false_start.cipher_suite,
        "alpn": false_start.alpn,
        "offered_versions": versions.supported,
    }
    if "TLSv1.2" not in versions.supported:
        return Verdict.not_applicable(
            "TLS 1.2 is not offered: there is nothing to False Start", evidence
        )
    if false_start.moot:
        return Verdict.not_applicable(
            "TLS 1.3 is offered: a new connection takes 1 round trip whatever False Start says",
            evidence,
        )
    if false_start.eligible:
        return Verdict.passed(evidence)
    return Verdict.failed(evidence, saving=context.saving(1))


FALSE_START_INELIGIBLE = Rule(
    id="TLS003",
    name="false-start-ineligible",
    severity=Severity.MEDIUM,
    category=Category.LATENCY,
    title=Localized(
        en="Browsers cannot False Start on this TLS 1.2-only server: {reasons}",
        zh="浏览器无法对这台仅支持 TLS 1.2 的服务器使用 False Start:{reasons}",
    ),
    why=Localized(
        en="A TLS 1.2 handshake takes 2 round trips before the request can leave. Browsers cut "
        "it to 1 with False Start (RFC 7918), but only after an ECDHE key exchange with an AEAD "
        "cipher (AES-GCM, ChaCha20) and, for Chrome, a protocol agreed through ALPN. Without "
        "TLS 1.3, every new connection from every browser pays the second round trip.",
        zh="TLS 1.2 握手需要 2 个往返后请求才能发出。浏览器可以用 False Start(RFC 7918)把它"
        "缩短到 1 个,但前提是使用 ECDHE 密钥交换和 AEAD 加密(AES-GCM、ChaCha20),Chrome "
        "还要求通过 ALPN 协商出应用协议。没有 TLS 1.3 时,"
        "所有浏览器的每个新连接都要多付这一个往返。",
    ),
    requires=(ProbeId.VERSIONS, ProbeId.FALSE_START),
    check=false_start_ineligible,
    advice=Advice(
        summary=Localized(
            en="Serve ECDHE with AES-GCM or ChaCha20 first and keep ALPN on (nginx, Apache, "
            "HAProxy and Caddy negotiate it by themselves): browsers then False Start, saving "
            "{saved_round_trips} round trip, about {saved_ms} ms per new connection at your "
            "measured RTT. Enabling TLS 1.3 (TLS001) saves the same round trip for every modern "
            "client.",
            zh="优先提供 ECDHE + AES-GCM 或 ChaCha20 的套件,并保持 ALPN 开启(nginx、Apache、"
            "HAProxy、Caddy 都会自动协商):浏览器即可使用 False Start,每个新连接节省 "
            "{saved_round_trips} 个往返,按实测 RTT 约 {saved_ms} 毫秒。启用 TLS 1.3(见 TLS001)"
            "能为所有现代客户端省下同样的往返。",
        ),
        snippets=AEAD_CIPHER_SNIPPETS,
        references=(
            "RFC 7918 §3",
            "https://boringssl.googlesource.com/boringssl (ssl_can_false_start: Chrome's rule)",
            MOZILLA_GUIDELINES,
        ),
    ),
)


# -- TLS004 / TLS005: downgrade protection -------------------------------------------------


def _downgrade(scan: ScanResult) -> DowngradeResult:
    result = scan.downgrade.result
    if result is None:
        raise ValueError("downgrade probe result missing")
    return result


def fallback_scsv_not_honoured(scan: ScanResult, context: CheckContext) -> Verdict:
    """RFC 7507: a hello below the server's best version, carrying the SCSV, must be refused."""
    downgrade = _downgrade(scan)
    evidence: Evidence = {
        "fallback_scsv_answer": downgrade.fallback_scsv_answer,
        "offered_versions": _versions(scan).supported,
    }
    if downgrade.fallback_scsv is Support.NOT_TESTED:
        return Verdict.not_applicable(
            "the server speaks one protocol version: there is nothing to fall back to", evidence
        )
    if downgrade.fallback_scsv is Support.UNKNOWN:
        return unknown(
            f"the answer to the fallback hello ({downgrade.fallback_scsv_answer}) says nothing "
            "about TLS_FALLBACK_SCSV",
            evidence,
        )
    if downgrade.fallback_scsv is Support.SUPPORTED:
        return Verdict.passed(evidence)
    return Verdict.failed(evidence)


FALLBACK_SCSV_NOT_HONOURED = Rule(
    id="TLS004",
    name="fallback-scsv-not-honoured",
    severity=Severity.LOW,
    category=Category.SECURITY,
    title=Localized(
        en="TLS_FALLBACK_SCSV is ignored: a fallback hello got {fallback_scsv_answer} "
        "(offered: {offered_versions})",
        zh="服务器忽略了 TLS_FALLBACK_SCSV:回退握手得到的是 {fallback_scsv_answer}"
        "(当前支持:{offered_versions})",
    ),
    why=Localized(
        en="Some clients retry a failed handshake with a lower version. TLS_FALLBACK_SCSV "
        "(RFC 7507) marks that retry, so a server that speaks something better refuses it. "
        "A server that ignores it lets an attacker who breaks the first attempt push those "
        "clients down to the weakest version you still accept.",
        zh="有些客户端在握手失败后会用更低的版本重试。TLS_FALLBACK_SCSV(RFC 7507)会标记这次"
        "重试,支持更高版本的服务器应当拒绝它。忽略这个信号的服务器,会让能打断首次握手的攻击者"
        "把这些客户端压到你仍接受的最弱版本上。",
    ),
    requires=(ProbeId.VERSIONS, ProbeId.DOWNGRADE),
    check=fallback_scsv_not_honoured,
    advice=Advice(
        summary=Localized(
            en="Every maintained TLS library honours TLS_FALLBACK_SCSV without configuration: "
            "update the library the server (or the load balancer in front of it) is built on, "
            "and check that no TLS-terminating box strips the signal. Accepting TLS 1.2 and "
            "TLS 1.3 only also leaves an attacker little to fall back to.",
            zh="所有仍在维护的 TLS 库都会自动遵循 TLS_FALLBACK_SCSV,无需配置:请升级服务器"
            "(或其前面的负载均衡器)所用的 TLS 库,并确认没有终结 TLS 的设备把这个信号去掉。"
            "只接受 TLS 1.2 和 TLS 1.3 也能让攻击者几乎无处可退。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "# nginx honours TLS_FALLBACK_SCSV whenever its OpenSSL does (1.0.1j and later);\n"
                "# there is no directive. Upgrade OpenSSL, or the proxy in front of nginx.",
                not_configurable=True,
            ),
            ServerKind.APACHE: Snippet(
                "# mod_ssl honours TLS_FALLBACK_SCSV whenever its OpenSSL does (1.0.1j and "
                "later);\n# there is no directive. Upgrade OpenSSL, or the proxy in front.",
                not_configurable=True,
            ),
            ServerKind.HAPROXY: Snippet(
                "# HAProxy honours TLS_FALLBACK_SCSV through its OpenSSL (1.0.1j and later);\n"
                "# there is no keyword. Upgrade the library HAProxy is linked against.",
                not_configurable=True,
            ),
            ServerKind.CADDY: Snippet(
                "# Go's crypto/tls (Caddy) always honours TLS_FALLBACK_SCSV; a server that\n"
                "# ignores it is another box in front of Caddy.",
                not_configurable=True,
            ),
        },
        references=("RFC 7507 §3", "RFC 8996"),
    ),
)


def downgrade_sentinel_missing(scan: ScanResult, context: CheckContext) -> Verdict:
    """RFC 8446 §4.1.3: a TLS 1.3 server answering a TLS 1.2 hello marks its random."""
    downgrade = _downgrade(scan)
    evidence: Evidence = {"offered_versions": _versions(scan).supported}
    if downgrade.downgrade_sentinel is None:
        return Verdict.not_applicable(
            "the marker exists only on servers that speak both TLS 1.3 and TLS 1.2", evidence
        )
    if downgrade.downgrade_sentinel:
        return Verdict.passed(evidence)
    return Verdict.failed(evidence)


DOWNGRADE_SENTINEL_MISSING = Rule(
    id="TLS005",
    name="downgrade-sentinel-missing",
    severity=Severity.LOW,
    category=Category.SECURITY,
    title=Localized(
        en="A TLS 1.2 ServerHello from this TLS 1.3 server lacks the downgrade marker "
        "(offered: {offered_versions})",
        zh="这台支持 TLS 1.3 的服务器在 TLS 1.2 ServerHello 中缺少降级标记(当前支持:"
        "{offered_versions})",
    ),
    why=Localized(
        en="A TLS 1.3 server that negotiates TLS 1.2 must end its random with the bytes "
        "DOWNGRD (RFC 8446 §4.1.3), so a TLS 1.3 client notices when an attacker removed "
        "TLS 1.3 from its hello. Without the marker that forced downgrade goes unseen. The "
        "usual cause is an old TLS terminator in front of a modern server.",
        zh="支持 TLS 1.3 的服务器在协商 TLS 1.2 时,必须在随机数末尾写入 DOWNGRD 标记"
        "(RFC 8446 §4.1.3),这样 TLS 1.3 客户端才能发现攻击者把 TLS 1.3 从握手中删掉了。"
        "缺少这个标记,这种强制降级就无从察觉。"
        "常见原因是现代服务器前面挡着一台老旧的 TLS 终结设备。",
    ),
    requires=(ProbeId.VERSIONS, ProbeId.DOWNGRADE),
    check=downgrade_sentinel_missing,
    advice=Advice(
        summary=Localized(
            en="The marker is written by the TLS library, not configured: update it (OpenSSL "
            "1.1.1 and later, every maintained library sets it), or find the device in front "
            "that terminates TLS 1.2 on its own or rewrites the ServerHello.",
            zh="这个标记由 TLS 库写入,无法配置:请升级 TLS 库(OpenSSL 1.1.1 及以后的版本、"
            "所有仍在维护的库都会写入),"
            "或者找出前面那台自行终结 TLS 1.2 或改写 ServerHello 的设备。",
        ),
        snippets={
            kind: Snippet(
                f"# {kind.value} cannot switch the RFC 8446 downgrade marker on or off: its TLS\n"
                "# library writes it. Upgrade that library, or the device in front.",
                not_configurable=True,
            )
            for kind in ServerKind
        },
        references=("RFC 8446 §4.1.3",),
    ),
)


# -- TLS006-TLS008: legacy ciphers ---------------------------------------------------------

# 64-bit blocks: a few hundred gigabytes under one key make block collisions (Sweet32).
BLOCK64_CIPHERS = frozenset({"3DES-EDE-CBC", "DES-CBC", "IDEA-CBC"})


def _is_cbc(suite: CipherSuiteInfo) -> bool:
    return suite.mode == "CBC" and suite.encryption not in BLOCK64_CIPHERS


def _is_block64(suite: CipherSuiteInfo) -> bool:
    return suite.encryption in BLOCK64_CIPHERS


def _is_rc4(suite: CipherSuiteInfo) -> bool:
    return suite.mode == "stream"


def cbc_suites_offered(scan: ScanResult, context: CheckContext) -> Verdict:
    """CBC suites with 128-bit blocks (AES, Camellia, ARIA, SEED); 64-bit ones are TLS007's."""
    suites, versions = _suites_where(scan, _is_cbc)
    evidence: Evidence = {"cbc_suites": suites, "cbc_versions": versions}
    return Verdict.failed(evidence) if suites else Verdict.passed(evidence)


def block64_suites_offered(scan: ScanResult, context: CheckContext) -> Verdict:
    """3DES, DES or IDEA suites accepted in any version."""
    suites, versions = _suites_where(scan, _is_block64)
    evidence: Evidence = {"block64_suites": suites, "block64_versions": versions}
    return Verdict.failed(evidence) if suites else Verdict.passed(evidence)


def rc4_suites_offered(scan: ScanResult, context: CheckContext) -> Verdict:
    """RC4 suites accepted in any version (RFC 7465 forbids them)."""
    suites, versions = _suites_where(scan, _is_rc4)
    evidence: Evidence = {"rc4_suites": suites, "rc4_versions": versions}
    return Verdict.failed(evidence) if suites else Verdict.passed(evidence)


CBC_SUITES_OFFERED = Rule(
    id="TLS006",
    name="cbc-suites-offered",
    severity=Severity.LOW,
    category=Category.SECURITY,
    title=Localized(
        en="CBC cipher suites are accepted ({cbc_versions}): {cbc_suites}",
        zh="服务器接受 CBC 密码套件({cbc_versions}):{cbc_suites}",
    ),
    why=Localized(
        en="TLS's CBC suites authenticate and then encrypt, a construction that produced a "
        "decade of padding-oracle and timing attacks (Lucky Thirteen, POODLE on TLS, "
        "BEAST before TLS 1.1) and needs careful constant-time code to stay safe. AEAD suites "
        "(AES-GCM, ChaCha20-Poly1305) have none of that, are faster, and are what every "
        "browser since 2014 prefers.",
        zh="TLS 的 CBC 套件先认证再加密,这种构造引出了十年的填充预言和计时攻击(Lucky "
        "Thirteen、TLS 上的 POODLE、TLS 1.1 之前的 BEAST),要靠非常小心的恒定时间实现才能保证"
        "安全。AEAD 套件(AES-GCM、ChaCha20-Poly1305)没有这些问题,速度更快,也是 2014 年以来"
        "所有浏览器的首选。",
    ),
    requires=(ProbeId.CIPHER_SUITES,),
    check=cbc_suites_offered,
    advice=Advice(
        summary=Localized(
            en="Offer only ECDHE suites with AES-GCM or ChaCha20-Poly1305 in TLS 1.2 (Mozilla's "
            "intermediate list); clients as old as Android 4.4, IE 11 on Windows 10 and "
            "Java 8u161 still connect, and TLS 1.3 never uses CBC.",
            zh="TLS 1.2 只提供 ECDHE + AES-GCM 或 ChaCha20-Poly1305 的套件(Mozilla 中级配置的"
            "列表);Android 4.4、Windows 10 上的 IE 11、Java 8u161 这样老的客户端也能连上,"
            "TLS 1.3 本身从不使用 CBC。",
        ),
        snippets=AEAD_CIPHER_SNIPPETS,
        references=("RFC 7457 §2", "RFC 9325", MOZILLA_GUIDELINES),
    ),
)

BLOCK64_SUITES_OFFERED = Rule(
    id="TLS007",
    name="3des-offered",
    severity=Severity.MEDIUM,
    category=Category.SECURITY,
    title=Localized(
        en="64-bit block ciphers (3DES) are accepted ({block64_versions}): {block64_suites}",
        zh="服务器接受 64 位分组密码(3DES)({block64_versions}):{block64_suites}",
    ),
    why=Localized(
        en="3DES (and DES and IDEA) encrypt 64-bit blocks: after a few hundred gigabytes, or "
        "a few hours of an attacker's JavaScript, blocks repeat and leak plaintext such as "
        "cookies (Sweet32, CVE-2016-2183). 3DES is also about 20 times slower than AES-GCM, "
        "and offers only 112-bit security, below RFC 9325's floor of 128.",
        zh="3DES(以及 DES、IDEA)使用 64 位分组:加密几百 GB 数据后,或者攻击者的 JavaScript "
        "运行几个小时后,分组就会重复并泄露 cookie 等明文(Sweet32,CVE-2016-2183)。3DES 还比 "
        "AES-GCM 慢约 20 倍,安全强度只有 112 位,低于 RFC 9325 要求的 128 位。",
    ),
    requires=(ProbeId.CIPHER_SUITES,),
    check=block64_suites_offered,
    advice=Advice(
        summary=Localized(
            en="Remove 3DES: the only clients that need it are Internet Explorer 8 on Windows "
            "XP and devices of that age. The AEAD list below drops it along with the rest of "
            "the legacy suites.",
            zh="去掉 3DES:只有 Windows XP 上的 IE 8 以及同年代的设备才需要它。下面的 AEAD "
            "列表会把它连同其它过时套件一起去掉。",
        ),
        snippets=AEAD_CIPHER_SNIPPETS,
        references=("https://sweet32.info", "RFC 9325", MOZILLA_GUIDELINES),
    ),
)

RC4_SUITES_OFFERED = Rule(
    id="TLS008",
    name="rc4-offered",
    severity=Severity.HIGH,
    category=Category.SECURITY,
    title=Localized(
        en="RC4 cipher suites are accepted ({rc4_versions}): {rc4_suites}",
        zh="服务器接受 RC4 密码套件({rc4_versions}):{rc4_suites}",
    ),
    why=Localized(
        en="RC4's keystream is biased: repeated secrets such as cookies can be recovered from "
        "enough encrypted copies, and RFC 7465 forbids RC4 in TLS altogether. No browser has "
        "offered it since 2016, so it only serves attackers.",
        zh="RC4 的密钥流存在偏差:cookie 这类反复出现的秘密,只要收集足够多的密文就能被还原,"
        "RFC 7465 已完全禁止在 TLS 中使用 RC4。"
        "2016 年以后没有浏览器再提供它,留着它只对攻击者有用。",
    ),
    requires=(ProbeId.CIPHER_SUITES,),
    check=rc4_suites_offered,
    advice=Advice(
        summary=Localized(
            en="Remove every RC4 suite now; the AEAD list below leaves none.",
            zh="立即去掉所有 RC4 套件;下面的 AEAD 列表中一个都不包含。",
        ),
        snippets=AEAD_CIPHER_SNIPPETS,
        references=("RFC 7465", MOZILLA_GUIDELINES),
    ),
)


# -- TLS009 / TLS010: what the server picks among strong ciphers ---------------------------


def _top_version(scan: ScanResult) -> VersionCipherSuites | None:
    """Suites of the highest version the server accepts (what modern clients get)."""
    result = _cipher_suites(scan)
    return result.versions[0] if result.versions else None


def _suite_order(top: VersionCipherSuites) -> tuple[str, ...]:
    """The accepted suites as far as their order is known: the ranked head, then how many
    more the server accepts without a measured order (never shown as if ordered)."""
    ranked = len(top.accepted) - top.unranked_count
    names = tuple(suite.name for suite in top.accepted[:ranked])
    if top.unranked_count:
        names += (f"+{top.unranked_count} more, not ranked",)
    return names


def aes256_preferred(scan: ScanResult, context: CheckContext) -> Verdict:
    """A server-ordered server that answers AES-256-GCM when a client offers both sizes."""
    result = _cipher_suites(scan)
    top = _top_version(scan)
    evidence: Evidence = {
        "version": top.version if top is not None else None,
        "preference": top.preference if top is not None else None,
        "accepted_suites": _suite_order(top) if top is not None else (),
    }
    if top is None or result.prefers_aes128_over_aes256 is None:
        return Verdict.not_applicable(
            "AES-128-GCM and AES-256-GCM are not both accepted with one key exchange", evidence
        )
    if result.prefers_aes128_over_aes256 or top.preference == "client":
        # A client-ordered server gives each client what it lists first: browsers list AES-128.
        return Verdict.passed(evidence)
    if top.preference != "server":
        return unknown("the server's suite order could not be read", evidence)
    return Verdict.failed(evidence)


AES256_PREFERRED = Rule(
    id="TLS009",
    name="aes256-preferred",
    severity=Severity.INFO,
    category=Category.LATENCY,
    title=Localized(
        en="The server chooses AES-256-GCM over AES-128-GCM in {version} (its order: "
        "{accepted_suites})",
        zh="服务器在 {version} 中优先选择 AES-256-GCM 而不是 AES-128-GCM(其顺序:{accepted_suites})",
    ),
    why=Localized(
        en="AES-256 runs 14 rounds where AES-128 runs 10: up to 40% more CPU per byte on both "
        "ends, for a margin no practical attack needs (AES-128 is not the weak link of any TLS "
        "connection). Browsers list AES-128-GCM first; a server that insists on AES-256 "
        "overrides them.",
        zh="AES-256 要做 14 轮运算,AES-128 只要 10 轮:两端每个字节最多多花 40% 的 CPU,换来的"
        "安全余量并无实际攻击需要(AES-128 从来不是 TLS 连接的短板)。浏览器都把 AES-128-GCM "
        "排在前面,坚持用 AES-256 的服务器等于推翻了它们的选择。",
    ),
    requires=(ProbeId.CIPHER_SUITES,),
    check=aes256_preferred,
    advice=Advice(
        summary=Localized(
            en="Let the client's order decide (every suite you offer should be strong anyway), "
            "or keep your own order with AES-128-GCM before AES-256-GCM in TLS 1.2 and TLS 1.3.",
            zh="让客户端的顺序决定(你提供的套件本就都应足够安全),或者保留服务器顺序,但在 "
            "TLS 1.2 和 TLS 1.3 中都把 AES-128-GCM 排在 AES-256-GCM 之前。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "ssl_prefer_server_ciphers off;\n"
                "# or keep the server's order, AES-128 first in both versions (nginx 1.19.4+):\n"
                "# ssl_conf_command Ciphersuites "
                "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384;"
            ),
            ServerKind.APACHE: Snippet(
                "SSLHonorCipherOrder off\n"
                "# or keep the server's order, AES-128 first in TLS 1.3 too (2.4.36+):\n"
                "# SSLCipherSuite TLSv1.3 "
                "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384"
            ),
            ServerKind.HAPROXY: Snippet(
                "global\n    ssl-default-bind-options prefer-client-ciphers\n"
                "    ssl-default-bind-ciphersuites "
                "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384"
            ),
            ServerKind.CADDY: Snippet(
                "# Caddy (Go's crypto/tls) already puts AES-128-GCM first; remove any\n"
                "# 'ciphers' line from the tls block that lists AES-256 first.",
                not_configurable=True,
            ),
        },
        references=(MOZILLA_GUIDELINES, "FIPS 197 §5"),
    ),
)


def chacha20_not_honoured(scan: ScanResult, context: CheckContext) -> Verdict:
    """A client that lists ChaCha20 first (no AES hardware) should get it."""
    result = _cipher_suites(scan)
    top = _top_version(scan)
    if top is None:
        return Verdict.not_applicable("no cipher suite was accepted")
    encryptions = {suite.encryption for suite in top.accepted}
    evidence: Evidence = {
        "version": top.version,
        "preference": top.preference,
        "chacha20_offered": "CHACHA20-POLY1305" in encryptions,
        "accepted_suites": _suite_order(top),
    }
    if not encryptions & {"AES-128-GCM", "AES-256-GCM"}:
        return Verdict.not_applicable("no AES-GCM suite to weigh ChaCha20 against", evidence)
    if "CHACHA20-POLY1305" not in encryptions:
        return Verdict.failed(
            evidence,
            message=Localized(
                en="ChaCha20-Poly1305 is not offered in {version}: phones without AES "
                "hardware must use AES-GCM in software",
                zh="{version} 中没有提供 ChaCha20-Poly1305:没有 AES 硬件加速的手机只能用软件"
                "实现的 AES-GCM",
            ),
        )
    if result.honours_chacha20_preference is None:
        return Verdict.not_applicable(
            "ChaCha20 and AES-GCM are not offered with the same key exchange", evidence
        )
    if result.honours_chacha20_preference:
        return Verdict.passed(evidence)
    return Verdict.failed(evidence)


CHACHA20_NOT_HONOURED = Rule(
    id="TLS010",
    name="chacha20-not-honoured",
    severity=Severity.LOW,
    category=Category.LATENCY,
    title=Localized(
        en="A client that lists ChaCha20-Poly1305 first still gets AES-GCM in {version} "
        "(server order: {accepted_suites})",
        zh="即使客户端把 ChaCha20-Poly1305 排在首位,{version} 中仍被分配 AES-GCM"
        "(服务器顺序:{accepted_suites})",
    ),
    why=Localized(
        en="Clients put ChaCha20-Poly1305 first when their CPU has no AES instructions (many "
        "budget and older Android phones, small devices). There AES-GCM in software is about "
        "three times slower than ChaCha20 and burns battery on every page. A server that "
        "forces its own AES-first order makes exactly those clients pay.",
        zh="CPU 没有 AES 指令的客户端(许多低端和较老的 Android 手机、小型设备)会把 "
        "ChaCha20-Poly1305 排在首位。在这些设备上,软件实现的 AES-GCM 比 ChaCha20 慢约三倍,"
        "每个页面都在耗电。坚持自己 AES 优先顺序的服务器,恰恰让这些客户端买单。",
    ),
    requires=(ProbeId.CIPHER_SUITES,),
    check=chacha20_not_honoured,
    advice=Advice(
        summary=Localized(
            en="Offer ChaCha20-Poly1305 and let the client's order decide, or keep your own "
            "order and tell OpenSSL to honour a client that lists ChaCha20 first "
            "(PrioritizeChaCha).",
            zh="提供 ChaCha20-Poly1305 并让客户端的顺序决定;或者保留服务器顺序,同时让 OpenSSL "
            "尊重把 ChaCha20 排在首位的客户端(PrioritizeChaCha)。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "ssl_prefer_server_ciphers off;\n"
                "# or keep the server's order and let ChaCha20-first clients have it (1.19.4+):\n"
                "# ssl_conf_command Options PrioritizeChaCha;"
            ),
            ServerKind.APACHE: Snippet(
                "SSLHonorCipherOrder off\n"
                "# or keep the server's order and let ChaCha20-first clients have it:\n"
                "# SSLOpenSSLConfCmd Options PrioritizeChaCha"
            ),
            ServerKind.HAPROXY: Snippet(
                "global\n    ssl-default-bind-options prefer-client-ciphers"
            ),
            ServerKind.CADDY: Snippet(
                "# Caddy (Go's crypto/tls) already gives ChaCha20 to clients that list it\n"
                "# first; remove any 'ciphers' line that leaves ChaCha20 out.",
                not_configurable=True,
            ),
        },
        references=(
            "RFC 7905",
            "https://docs.openssl.org/3.0/man3/SSL_CTX_set_options/ (SSL_OP_PRIORITIZE_CHACHA)",
            MOZILLA_GUIDELINES,
        ),
    ),
)


# -- TLS011: client simulation -------------------------------------------------------------


def simulated_clients_fail(scan: ScanResult, context: CheckContext) -> Verdict:
    """A replayed first flight of a real client that gets no usable handshake."""
    simulation = scan.client_simulation.result
    if simulation is None:
        raise ValueError("client simulation probe result missing")
    if not simulation.clients:
        return Verdict.not_applicable("no client profile was replayed")
    failed = tuple(
        f"{client.client}: {client.failure}"
        for client in simulation.clients
        if client.failure is not None
    )
    evidence: Evidence = {
        "failed_clients": failed,
        "failed_count": len(failed),
        "clients_tested": len(simulation.clients),
    }
    return Verdict.failed(evidence) if failed else Verdict.passed(evidence)


SIMULATED_CLIENTS_FAIL = Rule(
    id="TLS011",
    name="simulated-clients-fail",
    severity=Severity.MEDIUM,
    category=Category.RELIABILITY,
    title=Localized(
        en="{failed_count} of {clients_tested} simulated clients cannot connect: {failed_clients}",
        zh="{clients_tested} 个模拟客户端中有 {failed_count} 个无法连接:{failed_clients}",
    ),
    why=Localized(
        en="Each simulated client sends the first flight a real client sends (versions, "
        "suites, groups, key shares). A refusal means users of that client see an error page, "
        "not a slow one. The reason given names what was missing: a protocol version, a "
        "cipher suite or a group in common.",
        zh="每个模拟客户端发送的都是真实客户端的首个握手消息(版本、套件、组、密钥共享)。被拒绝"
        "意味着这些用户看到的是错误页面,而不仅仅是慢。给出的原因说明了缺少什么:共同的协议版本、"
        "密码套件或组。",
    ),
    requires=(ProbeId.CLIENT_SIMULATION,),
    check=simulated_clients_fail,
    advice=Advice(
        summary=Localized(
            en="Unless you mean to turn those clients away, accept TLS 1.2 next to TLS 1.3 with "
            "the ECDHE + AEAD suites and the x25519, P-256 and P-384 groups: that set serves "
            "every client simulated here, as old as Android 7 and Java 17 in TLS 1.2.",
            zh="除非你有意拒绝这些客户端,否则请在 TLS 1.3 之外同时接受 TLS 1.2,提供 ECDHE + "
            "AEAD 套件以及 x25519、P-256、P-384 组:这组配置能服务这里模拟的所有客户端,"
            "包括仅支持 TLS 1.2 的 Android 7 和 Java 17。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "ssl_protocols TLSv1.2 TLSv1.3;\n"
                f"ssl_ciphers {AEAD_TLS12_OPENSSL};\n"
                "ssl_ecdh_curve X25519:prime256v1:secp384r1;"
            ),
            ServerKind.APACHE: Snippet(
                "SSLProtocol -all +TLSv1.2 +TLSv1.3\n"
                f"SSLCipherSuite {AEAD_TLS12_OPENSSL}\n"
                "SSLOpenSSLConfCmd Curves X25519:prime256v1:secp384r1"
            ),
            ServerKind.HAPROXY: Snippet(
                "global\n    ssl-default-bind-options ssl-min-ver TLSv1.2\n"
                f"    ssl-default-bind-ciphers {AEAD_TLS12_OPENSSL}\n"
                "    ssl-default-bind-curves X25519:P-256:P-384"
            ),
            ServerKind.CADDY: Snippet(
                "tls {\n    protocols tls1.2 tls1.3\n    curves x25519 secp256r1 secp384r1\n}"
            ),
        },
        references=(MOZILLA_GUIDELINES, "https://www.ssllabs.com/ssltest/clients.html"),
    ),
)

RULES = (
    TLS13_DISABLED,
    OLD_VERSIONS_OFFERED,
    FALSE_START_INELIGIBLE,
    FALLBACK_SCSV_NOT_HONOURED,
    DOWNGRADE_SENTINEL_MISSING,
    CBC_SUITES_OFFERED,
    BLOCK64_SUITES_OFFERED,
    RC4_SUITES_OFFERED,
    AES256_PREFERRED,
    CHACHA20_NOT_HONOURED,
    SIMULATED_CLIENTS_FAIL,
)
