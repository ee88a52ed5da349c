/**
 * The policy pack Pulumi runs: `pulumi preview --policy-pack policy` (install its dependencies once with
 * `npm install --prefix policy`). The policies themselves are in guarantees.ts, which `npm test` also runs offline.
 */
import { PolicyPack } from "@pulumi/policy";

import { guarantees } from "./guarantees";

new PolicyPack("cloudtrail-alerts-guarantees", { enforcementLevel: "mandatory", policies: guarantees });
