// The lab's fast engine: Hardhat's Rust EVM (@nomicfoundation/edr) behind stdin and stdout.
// Started by dcai_lab.edr.EdrNode with one argument, a JSON object of settings (hardfork, chain id, accounts'
// keys and balance, genesis time, block gas limit, initial base fee); then each line on stdin is one
// JSON-RPC request (or a batch, an array), and each answer is one line on stdout, in order.
"use strict";

const readline = require("readline");

function load() {
  try {
    return require(process.env.DCAI_LAB_EDR_MODULE || "@nomicfoundation/edr");
  } catch (error) {
    process.stderr.write(`cannot load @nomicfoundation/edr: ${error.message}\n`);
    process.exit(3);
  }
}

const hex = (s) => Uint8Array.from(Buffer.from(s.replace(/^0x/, ""), "hex"));

async function main() {
  const edr = load();
  const settings = JSON.parse(process.argv[2]);
  const context = new edr.EdrContext();
  await context.registerProviderFactory(edr.L1_CHAIN_TYPE, edr.l1ProviderFactory());
  const hardfork = edr.l1HardforkFromString(settings.hardfork);
  const accounts = settings.accounts.map((account) => ({ address: hex(account.address), balance: BigInt(account.balance) }));
  const config = {
    allowBlocksWithSameTimestamp: false,
    allowUnlimitedContractSize: false,
    bailOnCallFailure: true,  // a reverting call answers with an error carrying the revert data
    bailOnTransactionFailure: false,
    chainId: BigInt(settings.chainId),
    coinbase: hex("0x0000000000000000000000000000000000000000"),
    // Calls without a gas field (web3's .call()) get at most what a transaction may use.
    defaultTransactionGasLimit: BigInt(settings.transactionGasCap === null ? settings.blockGasLimit
      : Math.min(settings.blockGasLimit, settings.transactionGasCap)),
    genesisState: [...edr.l1GenesisState(hardfork), ...accounts],
    hardfork: settings.hardfork,
    initialBaseFeePerGas: BigInt(settings.initialBaseFee),
    minGasPrice: 0n,
    mining: { autoMine: true, blockGasLimit: BigInt(settings.blockGasLimit), memPool: { order: edr.MineOrdering.Fifo } },
    network: { genesisBlockGasLimit: BigInt(settings.blockGasLimit), genesisBlockTime: BigInt(settings.genesisTime) },
    networkId: BigInt(settings.chainId),
    observability: {},
    ownedAccounts: settings.keys,
    precompileOverrides: [],
    // The lab chunks its own transactions under a fork's cap (see dcai_lab.market.tx_gas_limit).
    transactionGasCap: settings.transactionGasCap === null ? false : BigInt(settings.transactionGasCap),
  };
  const logger = { enable: false, decodeConsoleLogInputsCallback: () => [], printLineCallback: () => {} };
  const provider = await context.createProvider(edr.L1_CHAIN_TYPE, config, logger,
    { subscriptionCallback: () => {} }, new edr.ContractDecoder());
  const answer = async (request) => {
    const response = await provider.handleRequest(JSON.stringify(request));
    const data = typeof response.data === "string" ? JSON.parse(response.data) : response.data;
    return { jsonrpc: "2.0", id: request.id, ...data };  // EDR answers with the result or error alone
  };
  // The lab's own method, one round trip per transaction: set the block's time, send, return the receipt.
  const send = async (request) => {
    const [timestamp, tx] = request.params;
    for (const [method, params] of [["evm_setNextBlockTimestamp", [timestamp]], ["eth_sendTransaction", [tx]]]) {
      const response = await answer({ id: request.id, method, params });
      if (response.error !== undefined) return response;
      if (method === "eth_sendTransaction") {
        return answer({ id: request.id, method: "eth_getTransactionReceipt", params: [response.result] });
      }
    }
  };
  // The lab's other method: this process's memory (resident now and at its peak, in bytes).
  const memory = (request) => ({ jsonrpc: "2.0", id: request.id,
    result: { rss: process.memoryUsage().rss, peakRss: process.resourceUsage().maxRSS * 1024 } });
  const methods = { lab_sendWithTime: send, lab_memory: memory };
  const handle = (request) => (methods[request.method] || answer)(request);
  process.stdout.write(JSON.stringify({ ready: true }) + "\n");
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const request = JSON.parse(line);
    let response;
    if (Array.isArray(request)) {  // one after the other: a batch may set the time, then send
      response = [];
      for (const item of request) response.push(await handle(item));
    } else {
      response = await handle(request);
    }
    process.stdout.write(JSON.stringify(response) + "\n");
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
