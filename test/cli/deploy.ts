import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { Wallet } from "ethers";
import { concord, useNodeForCli } from "../helpers/cli";

// Account 7 of hardhat node's well-known mnemonic (funded on the dev chain; never used elsewhere).
const DEPLOYER_KEY = "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356";
const PASSWORD = "correct horse battery staple";

describe("concord deploy (Ignition) signing with a keystore", function () {
  this.timeout(300_000);
  const cli = useNodeForCli({ prefix: "concord-deploy-" });

  const rpc = async (method: string, params: unknown[]) => {
    const response = await fetch(cli.node.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    return ((await response.json()) as { result: string }).result;
  };
  const nonce = async (address: string) => Number(await rpc("eth_getTransactionCount", [address, "latest"]));

  before(function () {
    fs.writeFileSync(path.join(cli.dir, "deployer.json"), new Wallet(DEPLOYER_KEY).encryptSync(PASSWORD));
    fs.writeFileSync(path.join(cli.dir, "pw.txt"), `${PASSWORD}\n`);
    fs.writeFileSync(path.join(cli.dir, "wrong.txt"), "not the password\n");
  });

  const deploy = (...args: string[]) =>
    concord(["deploy", "--rpc-url", cli.node.url, "--chain-id", "31337", "--keystore", path.join(cli.dir, "deployer.json"), ...args], {
      CONCORD_PRIVATE_KEY: "",
    });

  it("refuses a wrong password with exit 2, sending nothing and printing no secret", async function () {
    const deployer = new Wallet(DEPLOYER_KEY).address;
    const result = await deploy("--password-file", path.join(cli.dir, "wrong.txt"));
    expect(result.code).to.equal(2);
    expect(result.stderr.trim()).to.match(/^error: keystore .*deployer\.json could not be decrypted: wrong password or not a keystore file$/);
    expect(await nonce(deployer)).to.equal(0);
    expect(result.stderr + result.stdout).to.not.contain(DEPLOYER_KEY.slice(2));
  });

  it("deploys from the keystore's account and records the addresses for chain 31337", async function () {
    const deployer = new Wallet(DEPLOYER_KEY).address;
    const result = await deploy("--password-file", path.join(cli.dir, "pw.txt"), "--json");
    expect(result.stderr).to.equal("");
    expect(result.code).to.equal(0);
    const out = JSON.parse(result.stdout) as { chainId: number; registry: string; ledger: string };
    expect(out.chainId).to.equal(31337);
    // Both contracts have code, were created by the keystore's account, and the node's account 0 sent nothing.
    for (const address of [out.registry, out.ledger]) expect(await rpc("eth_getCode", [address, "latest"])).to.not.equal("0x");
    expect(await nonce(deployer)).to.equal(2);
    expect(await nonce("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")).to.equal(0);
    const recorded = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "deploy", "deployments", "chain-31337", "deployed_addresses.json"), "utf8"));
    expect(Object.values(recorded).map((a) => String(a).toLowerCase())).to.have.members([out.registry.toLowerCase(), out.ledger.toLowerCase()]);
    expect(result.stdout).to.not.contain(DEPLOYER_KEY.slice(2));
  });

  it("refuses a node on another chain than --chain-id with exit 2", async function () {
    const result = await concord(["deploy", "--rpc-url", cli.node.url, "--chain-id", "8453", "--account", "0"], { CONCORD_PRIVATE_KEY: "" });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain("--chain-id 8453 does not match");
  });
});
