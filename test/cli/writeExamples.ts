/**
 * The --help examples of the commands that write (everything but CHAIN_READS) run as pasted, in
 * one ordered walkthrough against the suite's own `hardhat node`: each example is taken from the
 * program's --help by its exact text, and between them the test prepares what they name (the
 * other partners' signature files, a password file, a key to import, $ORDER_REF, $LOT, time
 * passing). The few that cannot run here are listed in PARSE_ONLY with the reason;
 * test/cli/examples.ts parses every example.
 */
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { pasted, useNodeForCli } from "../helpers/cli";
import { allExamples, CHAIN_READS } from "../helpers/helpExamples";

/** Examples that are parsed only (test/cli/examples.ts), each with why it does not run here. */
const PARSE_ONLY: Record<string, string> = {
  "concord deploy --rpc-url https://rpc.example --chain-id 8453 --keystore deployer.json --password-file pw.txt": "deploys to another chain",
  "CONCORD_PRIVATE_KEY=0x… concord deploy --rpc-url https://rpc.example --chain-id 8453": "deploys to another chain",
  "concord agreement sign 1 --wallet 0xSafe… --keystore owner1.json --out safe.sig.json   # then the next owner, same file": "needs a Safe: test/cli/prepare.ts signs with a real 2-of-3 Safe",
  "concord settle --intent booking-1002.intent.json --account 6 --permit": "needs an EIP-2612 token; a fresh deployment has none",
  "concord audit watch --rpc-url http://127.0.0.1:8545": "runs until Ctrl-C",
  "concord audit watch --rpc-url ws://127.0.0.1:8545 --json-lines": "runs until Ctrl-C",
  "concord audit watch --database-url postgres://auditor@db.internal/concord": "runs until Ctrl-C",
  "concord wallet new hotel.json": "asks for the password on a terminal",
  "concord wallet import hotel.json": "asks for the key and the password on a terminal",
  'concord completion zsh > "${fpath[1]}/_concord"   # zsh, then start a new shell': "zsh's $fpath",
};

// hardhat node's dev accounts: never use these keys on a real chain.
const HOTEL_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const RESTAURANT_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const VARIABLES = [
  "HOTEL=0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  "RESTAURANT=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
  "AIRLINE=0x90F79bf6EB2c4f870365E785982E1f101E93b906",
  "TRAVEL_SITE=0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
  "MEMBER=0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc", // account 5: a member of nested agreement 2
  "TREASURY=0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
];

/**
 * A step of the walkthrough: an example as --help prints it, the test's own shell lines, variables
 * (NAME=value lines) read from the files of earlier steps, or time passing on the node.
 */
type Run = { example: string } | { prepare: string };
type Step = Run | { define: (dir: string) => string[] } | { advance: number } | { together: Run[] };
type Written = { payment: { orderRef: string }; lotId: string };
const readJson = (dir: string, file: string) => JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as Written;
const ex = (example: string): Run => ({ example });
const prepare = (...lines: string[]): Run => ({ prepare: lines.join("\n") });

const TERMS_1 = "--shares $HOTEL=5000,$RESTAURANT=3000,$AIRLINE=2000 --referral-fee 500 --order-signer $TRAVEL_SITE --reserve 1000 --dispute-window 7d";

const WALKTHROUGH: Step[] = [
  ex("concord deploy --account 0   # on $CONCORD_RPC_URL, else http://127.0.0.1:8545"),
  // Keys: a keystore made, then the hotel's own key imported in its place.
  prepare("printf 'correct horse battery staple\\n' > pw.txt", `printf '${HOTEL_KEY}\\n' > hotel.key`),
  ex("concord wallet new hotel.json --password-file pw.txt --json"),
  prepare("rm hotel.json"),
  ex("concord wallet import hotel.json --password-file pw.txt < hotel.key"),
  ex("concord wallet address hotel.json"),
  ex("concord wallet address hotel.json --json"),
  prepare('test "$(concord wallet address hotel.json)" = "$HOTEL"'),

  // Agreement 1: the merchant's intents only; an approval given and revoked, then three signatures.
  ex(`concord agreement propose --account 1 ${TERMS_1} --refund-authority $HOTEL`),
  ex("concord agreement approve 1 --account 3 --expiry 7d"),
  ex("concord agreement approve 1 --account 3 --revoke"),
  prepare("concord agreement sign 1 --account 1 --out hotel.sig.json"),
  ex("concord agreement sign 1 --account 2 --out restaurant.sig.json"),
  prepare("concord agreement sign 1 --account 3 --out airline.sig.json"),
  ex("concord agreement activate 1 --account 1 --signatures hotel.sig.json restaurant.sig.json airline.sig.json"),

  // Two bookings through the travel site's intents; refunds by order reference and by lot.
  ex("concord intent sign 1 --account 4 --amount 1.5 --referrer $TRAVEL_SITE --order-id BKG-1001 --out booking-1001.intent.json"),
  ex("concord settle --intent booking-1001.intent.json --account 5"),
  prepare(
    "concord intent sign 1 --account 4 --amount 1.5 --referrer $TRAVEL_SITE --order-id BKG-1002 --out booking-1002.intent.json",
    "concord settle --intent booking-1002.intent.json --account 6 --json > booking-1002.settled.json",
  ),
  { define: (dir) => [`ORDER_REF=${readJson(dir, "booking-1001.intent.json").payment.orderRef}`, `LOT=${readJson(dir, "booking-1002.settled.json").lotId}`] },
  ex("concord refund --order-ref $ORDER_REF --scope $TRAVEL_SITE --account 1 --amount 0.05   # ORDER_REF=$(jq -r .payment.orderRef booking-1001.intent.json)"),
  ex("concord refund --lot $LOT --entry 0 --account 1 --amount 0.05"),

  // Agreement 2 (the restaurant and a member), nested in agreement 3, which takes direct payments.
  prepare(
    "concord agreement propose --account 2 --shares $RESTAURANT=5000,$MEMBER=5000",
    "concord agreement sign 2 --account 2 --out r2.sig.json",
    "concord agreement sign 2 --account 5 --out m2.sig.json",
    "concord agreement activate 2 --account 2 --signatures r2.sig.json m2.sig.json",
  ),
  ex("concord agreement propose --account 1 --shares $HOTEL=7000,#2@1=3000 --referral-fee 300 --referrers $TRAVEL_SITE"),
  prepare("concord agreement sign 3 --account 1 --out h3.sig.json", "concord agreement sign 3 --account 2 --out r3.sig.json"),
  ex("concord agreement sign 3 --account 5 --out member.sig.json   # a member of nested agreement #2, consenting to #3"),
  prepare("concord agreement activate 3 --account 1 --signatures h3.sig.json r3.sig.json member.sig.json"),
  ex("concord settle 3 --account 6 --amount 1.5 --referrer $TRAVEL_SITE --order-id BKG-1001   # agreement 3 takes direct payments"),

  // A negotiation on agreement 1 that ends without agreement, and one left to time out.
  ex(`concord negotiate open 1 --account 1 ${TERMS_1} --move-timeout 30m`),
  ex("concord negotiate offer 1 --account 3 --shares $HOTEL=4500,$RESTAURANT=3000,$AIRLINE=2500 --referral-fee 500 --order-signer $TRAVEL_SITE --reserve 1000 --dispute-window 7d"),
  ex("concord negotiate accept 1 --account 2"),
  ex("concord negotiate withdraw-acceptance 1 --account 2"),
  ex("concord negotiate end 1 --account 2"),
  prepare(`concord negotiate open 1 --account 1 ${TERMS_1} --move-timeout 30m`),
  { advance: 31 * 60 },
  ex("concord negotiate expire 1 --account 4"),
  // Agents negotiate for the parties, all at once, until they agree (each exits 0 with the activated version).
  prepare(`concord negotiate open 1 --account 1 ${TERMS_1} --rounds 20 --duration 1d`),
  {
    together: [
      ex("concord negotiate agent 1 --account 2 --tactic boulware --reservation 30%"),
      ex("concord negotiate agent 1 --account 3 --tactic tit-for-tat --reservation 25% --max-wait 10m --json-lines | tee airline.jsonl"),
      prepare("concord negotiate agent 1 --account 1 --tactic conceder --reservation 20%"),
    ],
  },
  prepare(`printf '${RESTAURANT_KEY}\\n' | concord wallet import restaurant.json --password-file pw.txt`, `concord negotiate open 1 --account 1 ${TERMS_1} --rounds 20 --duration 1d`),
  {
    together: [
      ex("concord negotiate agent 1 --keystore restaurant.json --password-file pw.txt --tactic conceder --reservation 0.4 --ideal-fee 300 --ideal-window 3d"),
      prepare("concord negotiate agent 1 --account 1 --tactic conceder --reservation 20%"),
      prepare("concord negotiate agent 1 --account 3 --tactic conceder --reservation 15%"),
    ],
  },

  // After the dispute window: the reserves released, the hotel paid.
  { advance: 8 * 24 * 3600 },
  ex("concord reserve release --lot $LOT --account 0   # LOT: the lot a settlement printed"),
  ex("concord reserve release --order-ref $ORDER_REF --scope $TRAVEL_SITE --account 0"),
  ex("concord withdraw --keystore hotel.json --password-file pw.txt --to $TREASURY --amount 0.5"),
  ex("concord withdraw --account 1"),

  // An amendment proposed, then agreement 1 ends: the restaurant on chain, the hotel and the airline by signature.
  ex("concord agreement amend 1 --account 1 --shares $HOTEL=6000,$RESTAURANT=4000"),
  ex("concord agreement approve 1 --account 2 --termination"),
  ex("concord agreement sign 1 --termination --keystore hotel.json --password-file pw.txt --out hotel.term.json"),
  prepare("concord agreement sign 1 --termination --account 3 --out airline.term.json"),
  ex("concord agreement terminate 1 --account 1 --signatures hotel.term.json airline.term.json   # the restaurant approved on chain"),
  ex("source <(concord completion bash)   # in ~/.bashrc"),
  prepare("concord agreement show 1 | grep -q '^agreement 1: terminated'", "concord audit verify"),
];

describe("the --help examples of the commands that write, run as pasted in one walkthrough", function () {
  this.timeout(900_000);
  const cli = useNodeForCli({ prefix: "concord-write-examples-" });
  const writes = allExamples().filter((e) => e.path !== "" && !CHAIN_READS.includes(e.path));
  const written = writes.flatMap((e) => e.lines.map((line) => ({ path: e.path, line })));

  it("every write command's example is in the walkthrough or named as parse-only, once", function () {
    const run = WALKTHROUGH.flatMap((s) => ("together" in s ? s.together : [s])).flatMap((s) => ("example" in s ? [s.example] : []));
    const accounted = [...run, ...Object.keys(PARSE_ONLY)];
    expect(written.map((w) => w.line).filter((l) => !accounted.includes(l)), "examples neither run nor listed").to.deep.equal([]);
    expect(accounted.filter((l) => !written.some((w) => w.line === l)), "steps that are no --help example").to.deep.equal([]);
    expect(new Set(accounted).size).to.equal(accounted.length);
  });

  it("runs them in order against a fresh node, each exiting 0", async function () {
    fs.writeFileSync(path.join(cli.dir, "walkthrough.env"), VARIABLES.join("\n") + "\n");
    const prelude = "set -a; . ./walkthrough.env; set +a";
    for (const step of WALKTHROUGH) {
      if ("define" in step) {
        const defined = step.define(cli.dir);
        for (const line of defined) expect(line).to.match(/^[A-Z_]+=(0x[0-9a-f]{64}|[1-9]\d*)$/);
        fs.appendFileSync(path.join(cli.dir, "walkthrough.env"), defined.map((l) => `${l}\n`).join(""));
        continue;
      }
      if ("advance" in step) {
        await rpc(cli.node.url, "evm_increaseTime", [step.advance]);
        await rpc(cli.node.url, "evm_mine", []);
        continue;
      }
      const runs = "together" in step ? step.together : [step];
      const results = await Promise.all(runs.map((r) => pasted("example" in r ? r.example : r.prepare, cli.dir, cli.env, prelude)));
      results.forEach(({ code, output }, i) => {
        const r = runs[i]!;
        expect(code, `${"example" in r ? `example: ${r.example}` : `preparing: ${r.prepare}`}\n${output}`).to.equal(0);
      });
    }
  });
});

async function rpc(url: string, method: string, params: unknown[]): Promise<void> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const body = (await response.json()) as { error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
}
