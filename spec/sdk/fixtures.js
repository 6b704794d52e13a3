"use strict";
// Fixture identities for the SDK contract tests.
//
// These values MIRROR scenarios/default.lua: the credentials, project ids,
// region and key ids below must be the ones that scenario declares. When you
// change one side, change the other; this file is the only place the tests
// take them from.

const path = require("node:path");

const REPO_ROOT = path.resolve(__dirname, "..", "..");

module.exports = {
  repoRoot: REPO_ROOT,
  // Scenario the contract tests run against (relative to the repo root).
  scenario: "scenarios/default.lua",

  huawei: {
    ak: "HWAKEXAMPLE0000000000",
    sk: "HWSKEXAMPLEsecretkey0000000000000000000",
    projectId: "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    otherProjectId: "ffffffffffffffffffffffffffffffff",
    keys: {
      aes256: "0d0466b0-e727-4d9c-b35d-f84bb474a37f", // enabled, AES_256
      sm4: "5f3c2a10-6b7d-4e8f-9a01-23456789abcd", // enabled, SM4
      disabled: "7e1d2c3b-4a59-4687-9abc-def012345678",
      pendingDeletion: "8a9b0c1d-2e3f-4051-8617-28394a5b6c7d",
      pendingImport: "9b8a7c6d-5e4f-4321-8fed-cba987654321",
      otherProject: "3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b", // lives in otherProjectId
    },
    // Not declared by the scenario: well-formed but unknown, and malformed.
    absentKey: "00000000-0000-4000-8000-000000000000",
    malformedKey: "not-a-key-id",
  },

  tencent: {
    secretId: "AKIDkmsemuEXAMPLE0000000000000000000",
    secretKey: "kmsemuEXAMPLEsecretkey0000000000",
    region: "ap-guangzhou",
    otherRegion: "ap-shanghai",
    keys: {
      enabled: "23e80852-1e38-11e9-b129-5cb9019b4b01", // enabled (SM4 in the scenario)
      enabledAes256: "6d4f5e70-1e38-11e9-b129-5cb9019b4b06", // enabled, AES_256
      disabled: "2f8d1a3e-1e38-11e9-b129-5cb9019b4b02",
      pendingDelete: "3a7c2b4d-1e38-11e9-b129-5cb9019b4b03",
      pendingImport: "4b6d3c5e-1e38-11e9-b129-5cb9019b4b04",
      otherRegion: "5c5e4d6f-1e38-11e9-b129-5cb9019b4b05", // lives in otherRegion
    },
    // Not declared by the scenario: well-formed but unknown, and malformed.
    absentKey: "00000000-1e38-11e9-b129-000000000000",
    malformedKey: "not-a-key-id",
    unknownSecretId: "AKIDkmsemuUNKNOWN0000000000000000000",
  },
};
