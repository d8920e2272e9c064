#!/usr/bin/python3
"""Interop check of an XMPP server with slixmpp, a client nobody here wrote.

Two accounts, A and B, log in over STARTTLS with SCRAM and go through the
RFC 6121 and XEP basics real clients rely on: roster get/set/remove with a
push, a subscription round trip, presence, messages to a full and a bare JID,
carbons (XEP-0280) to a second resource, blocking (XEP-0191) that stops
delivery, and offline delivery (XEP-0160) with a delay stamp (XEP-0203).

Each step prints "PASS step: detail" or "FAIL step: reason"; the first
failure ends the run with exit status 1 (later steps build on earlier ones).
Every wait is bounded by --timeout and the whole run by --deadline, so the
script never hangs. Run with Debian's /usr/bin/python3 and python3-slixmpp.
"""

import argparse
import asyncio
import logging
import os
import signal
import ssl
import sys
import uuid

import slixmpp
from slixmpp.util.sasl import client as sasl_client
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import StanzaPath

NS_ROSTER = "jabber:iq:roster"


class Fail(Exception):
    """A step failed; the message says why."""


class Client(slixmpp.ClientXMPP):
    """A slixmpp client that queues what it receives for the steps to inspect."""

    def __init__(self, jid, password, args):
        super().__init__(jid, password)
        self.args = args
        for p in ("xep_0030", "xep_0203", "xep_0280", "xep_0191"):
            self.register_plugin(p)
        # The steps drive subscriptions by hand.
        self.auto_authorize = None
        self.auto_subscribe = False
        if args.mech:
            self["feature_mechanisms"].use_mech = args.mech
        elif not args.allow_plus:
            # slixmpp 1.8 prefers a -PLUS mechanism whenever one is offered
            # but binds only with tls-unique, which TLS 1.3 does not define
            # (RFC 9266); a server binding with tls-exporter or
            # tls-server-end-point would fail the login. Leave them out.
            self["feature_mechanisms"].use_mechs = {
                m for m in sasl_client.MECHANISMS if not m.endswith("-PLUS")}
        if args.cafile:
            self.ca_certs = args.cafile
        else:
            # The server's self-signed certificate is accepted, loopback only.
            self.ssl_context.check_hostname = False
            self.ssl_context.verify_mode = ssl.CERT_NONE
        self.started = asyncio.Event()
        self.ended = asyncio.Event()
        self.failure = None
        self.queues = {k: asyncio.Queue() for k in
                       ("message", "presence", "carbon_received", "carbon_sent", "roster_push")}
        self.register_handler(Callback("interop messages", StanzaPath("message"),
                                       lambda s: self.queues["message"].put_nowait(s)))
        self.register_handler(Callback("interop presence", StanzaPath("presence"),
                                       lambda s: self.queues["presence"].put_nowait(s)))
        self.add_event_handler("carbon_received", lambda s: self.queues["carbon_received"].put_nowait(s))
        self.add_event_handler("carbon_sent", lambda s: self.queues["carbon_sent"].put_nowait(s))
        self.add_event_handler("roster_update", lambda s: self.queues["roster_push"].put_nowait(s))
        self.add_event_handler("session_start", lambda _: self.started.set())
        self.add_event_handler("failed_auth", lambda _: self._fail("authentication failed"))
        self.add_event_handler("connection_failed", lambda e: self._fail("connection failed: %s" % e))
        self.add_event_handler("disconnected", lambda _: self.ended.set())

    def _fail(self, why):
        self.failure = why
        self.started.set()

    def mechanism(self):
        mech = self["feature_mechanisms"].mech
        return mech.name if mech is not None else None

    async def login(self):
        """Connect and wait for the session, bounded by the timeout."""
        self.ended.clear()
        self.connect((self.args.host, self.args.port), force_starttls=True)
        try:
            await asyncio.wait_for(self.started.wait(), self.args.timeout)
        except asyncio.TimeoutError:
            raise Fail("%s: no session within %ss" % (self.boundjid, self.args.timeout))
        if self.failure:
            raise Fail("%s: %s" % (self.boundjid.bare, self.failure))
        mech = self.mechanism()
        if mech is None or not mech.startswith("SCRAM-"):
            raise Fail("%s logged in with %s, want SCRAM" % (self.boundjid.bare, mech))
        return mech

    async def logout(self):
        self.disconnect()
        try:
            await asyncio.wait_for(self.ended.wait(), self.args.timeout)
        except asyncio.TimeoutError:
            raise Fail("%s: no disconnect within %ss" % (self.boundjid, self.args.timeout))

    async def iq(self, iq):
        try:
            return await iq.send(timeout=self.args.timeout)
        except slixmpp.exceptions.IqError as e:
            raise Fail("%s: iq error %s" % (self.boundjid, e.iq["error"]["condition"]))
        except slixmpp.exceptions.IqTimeout:
            raise Fail("%s: no iq answer within %ss" % (self.boundjid, self.args.timeout))

    async def roster_items(self):
        """roster get, answered by the server: {bare jid: item dict}."""
        iq = self.Iq()
        iq["type"] = "get"
        iq.enable("roster")
        res = await self.iq(iq)
        return {str(j): v for j, v in res["roster"]["items"].items()}

    async def roster_set(self, jid, **item):
        iq = self.Iq()
        iq["type"] = "set"
        iq["roster"]["items"] = {jid: item}
        await self.iq(iq)

    async def expect(self, queue, pred, what, timeout=None):
        """Take stanzas from a queue until one matches pred, within timeout."""
        q = self.queues[queue]
        loop = asyncio.get_running_loop()
        end = loop.time() + (timeout or self.args.timeout)
        while True:
            left = end - loop.time()
            if left <= 0:
                raise Fail("%s: no %s within %ss" % (self.boundjid, what, timeout or self.args.timeout))
            try:
                st = await asyncio.wait_for(q.get(), left)
            except asyncio.TimeoutError:
                continue
            if pred(st):
                return st

    async def expect_none(self, queue, pred, what, quiet):
        """Fail if a matching stanza arrives within quiet seconds."""
        try:
            st = await self.expect(queue, pred, what, timeout=quiet)
        except Fail:
            return
        raise Fail("%s: got %s: %s" % (self.boundjid, what, st))

    def drain(self):
        for q in self.queues.values():
            while not q.empty():
                q.get_nowait()


def body_is(text):
    return lambda m: m["type"] != "error" and m["body"] == text


class Run:
    def __init__(self, args):
        self.args = args
        self.passed = 0
        self.clients = []
        self.a_jid = "%s@%s" % (args.user1, args.domain)
        self.b_jid = "%s@%s" % (args.user2, args.domain)
        self.tag = uuid.uuid4().hex[:8]

    def client(self, local, password, resource):
        c = Client("%s@%s/%s" % (local, self.args.domain, resource), password, self.args)
        self.clients.append(c)
        return c

    def ok(self, step, detail):
        self.passed += 1
        print("PASS %s: %s" % (step, detail), flush=True)

    async def step(self, name, coro):
        try:
            detail = await coro
        except Fail as e:
            print("FAIL %s: %s" % (name, e), flush=True)
            raise
        except Exception as e:  # a slixmpp or protocol surprise is a failure too
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e), flush=True)
            raise Fail(name)
        self.ok(name, detail)

    async def main(self):
        a = self.client(self.args.user1, self.args.password1, "a1")
        b1 = self.client(self.args.user2, self.args.password2, "b1")
        self.a, self.b1 = a, b1
        await self.step("login", self.login(a, b1))
        await self.step("roster get/set/remove", self.roster(a))
        await self.step("subscription round trip", self.subscription(a, b1))
        await self.step("presence", self.presence(a, b1))
        await self.step("message to full JID", self.message(a, b1, b1.boundjid.full))
        await self.step("message to bare JID", self.message(a, b1, self.b_jid))
        b2 = self.client(self.args.user2, self.args.password2, "b2")
        await self.step("carbons to a second resource", self.carbons(a, b1, b2))
        await self.step("block stops delivery", self.block(a, b1, b2))
        await self.step("offline delivery", self.offline(a, b1, b2))
        await self.step("cleanup", self.cleanup(a))
        print("slixmpp interop: all %d steps PASS" % self.passed, flush=True)

    async def login(self, a, b1):
        ma = await a.login()
        mb = await b1.login()
        if self.args.mech and (ma != self.args.mech or mb != self.args.mech):
            raise Fail("mechanisms %s, %s; want %s" % (ma, mb, self.args.mech))
        # Leftovers of an earlier run would change what the steps expect.
        for c, other in ((a, self.b_jid), (b1, self.a_jid)):
            if other in await c.roster_items():
                await c.roster_set(other, subscription="remove")
        await self.unblock_all(b1)
        a.send_presence()
        b1.send_presence()
        return "%s with %s, %s with %s" % (a.boundjid, ma, b1.boundjid, mb)

    async def unblock_all(self, c):
        iq = c.Iq()
        iq["type"] = "set"
        iq.enable("unblock")  # no items: unblock everyone (XEP-0191 §3.4)
        await c.iq(iq)

    async def roster(self, a):
        before = await a.roster_items()
        if self.b_jid in before:
            raise Fail("roster already holds %s" % self.b_jid)
        a.drain()
        await a.roster_set(self.b_jid, name="Bee " + self.tag, groups=["Interop"])
        await a.expect("roster_push", lambda iq: self.b_jid in [str(j) for j in iq["roster"]["items"]],
                       "roster push for %s" % self.b_jid)
        item = (await a.roster_items()).get(self.b_jid)
        if item is None:
            raise Fail("roster get after set lacks %s" % self.b_jid)
        if item["name"] != "Bee " + self.tag or list(item["groups"]) != ["Interop"]:
            raise Fail("roster item %s: name %r groups %r" % (self.b_jid, item["name"], item["groups"]))
        if item["subscription"] != "none":
            raise Fail("new item has subscription %r, want none" % item["subscription"])
        await a.roster_set(self.b_jid, subscription="remove")
        if self.b_jid in await a.roster_items():
            raise Fail("roster get after remove still holds %s" % self.b_jid)
        return "set name+group, pushed, read back, removed"

    async def subscription(self, a, b1):
        a.drain()
        b1.drain()
        a.send_presence(pto=self.b_jid, ptype="subscribe")
        await b1.expect("presence", lambda p: p["type"] == "subscribe" and p["from"].bare == self.a_jid,
                        "subscribe from A")
        b1.send_presence(pto=self.a_jid, ptype="subscribed")
        await a.expect("presence", lambda p: p["type"] == "subscribed" and p["from"].bare == self.b_jid,
                       "subscribed from B")
        b1.send_presence(pto=self.a_jid, ptype="subscribe")
        await a.expect("presence", lambda p: p["type"] == "subscribe" and p["from"].bare == self.b_jid,
                       "subscribe from B")
        a.send_presence(pto=self.b_jid, ptype="subscribed")
        await b1.expect("presence", lambda p: p["type"] == "subscribed" and p["from"].bare == self.a_jid,
                        "subscribed from A")
        # The roster state is what is persisted: both sides must say both.
        loop = asyncio.get_running_loop()
        end = loop.time() + self.args.timeout
        while True:
            sa = (await a.roster_items()).get(self.b_jid, {}).get("subscription")
            sb = (await b1.roster_items()).get(self.a_jid, {}).get("subscription")
            if sa == "both" and sb == "both":
                return "A and B subscribed both ways"
            if loop.time() > end:
                raise Fail("subscription A→B %r, B→A %r; want both" % (sa, sb))
            await asyncio.sleep(0.1)

    async def presence(self, a, b1):
        a.drain()
        status = "interop " + self.tag
        b1.send_presence(pshow="away", pstatus=status)
        await a.expect("presence", lambda p: p["from"] == b1.boundjid and p["type"] == "away"
                       and p["status"] == status, "away presence from %s" % b1.boundjid)
        b1.send_presence()
        await a.expect("presence", lambda p: p["from"] == b1.boundjid and p["type"] == "available",
                       "available presence from %s" % b1.boundjid)
        return "A saw B's away status and return"

    async def message(self, a, b1, to):
        b1.drain()
        body = "to %s %s" % (to, self.tag)
        a.send_message(mto=to, mbody=body, mtype="chat")
        m = await b1.expect("message", body_is(body), "message %r" % body)
        if m["from"] != a.boundjid:
            raise Fail("message from %s, want %s" % (m["from"], a.boundjid))
        return "%s got it from %s" % (b1.boundjid, m["from"])

    async def carbons(self, a, b1, b2):
        await b2.login()
        b2.send_presence()
        for c in (b1, b2):
            try:
                await c["xep_0280"].enable(timeout=self.args.timeout)
            except slixmpp.exceptions.IqError as e:
                raise Fail("%s: enabling carbons: %s" % (c.boundjid, e.iq["error"]["condition"]))
        await a.expect("presence", lambda p: p["from"] == b2.boundjid, "presence from %s" % b2.boundjid)
        for c in (a, b1, b2):
            c.drain()
        body = "carbon in " + self.tag
        a.send_message(mto=b1.boundjid.full, mbody=body, mtype="chat")
        await b1.expect("message", body_is(body), "message %r" % body)
        m = await b2.expect("carbon_received",
                            lambda m: m["carbon_received"]["body"] == body, "received carbon of %r" % body)
        fwd = m["carbon_received"]
        if fwd["to"] != b1.boundjid:
            raise Fail("received carbon addressed to %s, want %s" % (fwd["to"], b1.boundjid))
        body = "carbon out " + self.tag
        b1.send_message(mto=self.a_jid, mbody=body, mtype="chat")
        await a.expect("message", body_is(body), "message %r" % body)
        await b2.expect("carbon_sent", lambda m: m["carbon_sent"]["body"] == body, "sent carbon of %r" % body)
        return "%s got received and sent carbons" % b2.boundjid

    async def block(self, a, b1, b2):
        try:
            await b1["xep_0191"].block(self.a_jid, timeout=self.args.timeout)
            blocked = await b1["xep_0191"].get_blocked(timeout=self.args.timeout)
        except slixmpp.exceptions.IqError as e:
            raise Fail("blocking iq: %s" % e.iq["error"]["condition"])
        items = [str(j) for j in blocked["blocklist"]["items"]]
        if self.a_jid not in items:
            raise Fail("blocklist %s lacks %s" % (items, self.a_jid))
        for c in (b1, b2):
            c.drain()
        bodies = ["blocked full " + self.tag, "blocked bare " + self.tag]
        a.send_message(mto=b1.boundjid.full, mbody=bodies[0], mtype="chat")
        a.send_message(mto=self.b_jid, mbody=bodies[1], mtype="chat")
        for c in (b1, b2):
            await c.expect_none("message", lambda m: m["body"] in bodies,
                                "a message from the blocked A", self.args.quiet)
            await c.expect_none("carbon_received", lambda m: m["carbon_received"]["body"] in bodies,
                                "a carbon from the blocked A", 0.1)
        try:
            await b1["xep_0191"].unblock(self.a_jid, timeout=self.args.timeout)
        except slixmpp.exceptions.IqError as e:
            raise Fail("unblock iq: %s" % e.iq["error"]["condition"])
        body = "unblocked " + self.tag
        a.send_message(mto=b1.boundjid.full, mbody=body, mtype="chat")
        await b1.expect("message", body_is(body), "message %r after unblock" % body)
        return "nothing delivered for %.1fs while blocked; delivered after unblock" % self.args.quiet

    async def offline(self, a, b1, b2):
        a.drain()
        await b1.logout()
        await b2.logout()
        for c in (b1, b2):
            await a.expect("presence", lambda p, c=c: p["from"] == c.boundjid and p["type"] == "unavailable",
                           "unavailable from %s" % c.boundjid)
        body = "offline " + self.tag
        a.send_message(mto=self.b_jid, mbody=body, mtype="chat")
        # Give the server a moment to store it before B comes back.
        await asyncio.sleep(0.3)
        b3 = self.client(self.args.user2, self.args.password2, "b3")
        await b3.login()
        b3.send_presence()  # offline messages come on initial presence
        m = await b3.expect("message", body_is(body), "offline message %r" % body)
        if m["from"].bare != self.a_jid:
            raise Fail("offline message from %s, want %s" % (m["from"], self.a_jid))
        if not m["delay"]["stamp"]:
            raise Fail("offline message has no XEP-0203 delay stamp")
        self.b3 = b3
        return "%s got it on login, delayed from %s" % (b3.boundjid, m["delay"]["stamp"])

    async def cleanup(self, a):
        await a.roster_set(self.b_jid, subscription="remove")
        await self.b3.roster_set(self.a_jid, subscription="remove")
        return "rosters emptied"

    async def close(self):
        for c in self.clients:
            if c.started.is_set() and not c.ended.is_set():
                c.disconnect()
                try:
                    await asyncio.wait_for(c.ended.wait(), 2)
                except asyncio.TimeoutError:
                    pass


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5222)
    p.add_argument("--domain", default="localhost")
    p.add_argument("--user1", required=True, help="local part of account A")
    p.add_argument("--user2", required=True, help="local part of account B")
    p.add_argument("--password1", default=os.environ.get("INTEROP_PASSWORD1"))
    p.add_argument("--password2", default=os.environ.get("INTEROP_PASSWORD2"))
    p.add_argument("--cafile", help="PEM CA to verify the server (default: accept any)")
    p.add_argument("--mech", help="require this SASL mechanism (default: any SCRAM)")
    p.add_argument("--allow-plus", action="store_true",
                   help="let slixmpp pick a SCRAM -PLUS mechanism (tls-unique only)")
    p.add_argument("--timeout", type=float, default=10, help="bound on each wait, seconds")
    p.add_argument("--quiet", type=float, default=2, help="how long a blocked message must not arrive")
    p.add_argument("--deadline", type=int, default=120, help="bound on the whole run, seconds")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    if not a.password1 or not a.password2:
        p.error("passwords: --password1/--password2 or INTEROP_PASSWORD1/2")
    return a


def main(argv):
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.CRITICAL,
                        format="%(levelname)s %(name)s %(message)s")

    def watchdog(*_):
        print("FAIL deadline: the run took longer than %ds" % args.deadline, flush=True)
        os._exit(3)

    signal.signal(signal.SIGALRM, watchdog)
    signal.alarm(args.deadline)
    run = Run(args)

    async def go():
        try:
            await run.main()
            return 0
        except Fail:
            return 1
        finally:
            await run.close()

    return asyncio.run(go())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
