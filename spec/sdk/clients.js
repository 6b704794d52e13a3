"use strict";
// SDK clients pointed at a running kmsemu.
//
// Tencent: the real KMS client of tencentcloud-sdk-nodejs.
// Huawei:  the KMS service package (@huaweicloud/huaweicloud-sdk-kms) is not
//          published on npm, so HuaweiKmsClient below plays the part of the
//          generated services/kms/v2/KmsClient: it is built by the core's
//          ClientBuilder and hands the same request options the generated
//          client would to the core's HcClient.sendRequest, so the request is
//          built, signed (AKSKSigner, SDK-HMAC-SHA256), sent (DefaultHttpClient,
//          axios) and its errors are raised by @huaweicloud/huaweicloud-sdk-core
//          itself. Its methods take the request model as a plain object
//          in wire names ({key_id, body, ...}), which is how the generated
//          ParamCreater reads a request that is not an instance of its
//          model class; HUAWEI_ROUTES routes them.
//
// What @huaweicloud/huaweicloud-sdk-core 3.1.211 does with an error response
// (read from node_modules/@huaweicloud/huaweicloud-sdk-core):
//   - DefaultHttpClient.sendRequest catches the axios error and rethrows a
//     plain object {data, status, headers, message, requestId, config}:
//     data = the parsed response body, requestId = the X-Request-Id header,
//     message = axios' text ("Request failed with status code 404").
//     It also logs that object at ERROR level to stdout (log4js).
//   - HcClient.sendRequest turns it into ExceptionUtil.generalException(...):
//       errorCode = data.error?.code ?? data.error_code
//       errorMsg  = data.error?.message ?? data.error_msg ?? message
//     and throws ClientRequestException (400-499), ServerResponseException
//     (500-599) or ServiceResponseException (no status), all with
//     {httpStatusCode, errorCode, errorMsg, requestId,
//      encodedAuthorizationMessage}. The body itself is not kept.
//   - So the FLAT gateway body {"error_code":"APIGW.0301","error_msg":...}
//     surfaces fully (errorCode "APIGW.0301"), but the NESTED KMS body
//     {"error":{"error_code":"KMS.0207","error_msg":...}} does not: the core
//     looks for error.code / error.message, not error.error_code /
//     error.error_msg, so errorCode is undefined and errorMsg is axios'
//     "Request failed with status code 404". Only httpStatusCode and
//     requestId are right. (Unlike the Python and Go cores, which unwrap it.)
// To assert KMS.xxxx codes the wrapper keeps the exception the core throws
// unchanged (same class, same fields) and attaches the raw response the
// core's DefaultHttpClient produced as a non-enumerable property
// `err.response = {status, headers, data}`. huaweiError(err) reads the code
// from errorCode when the core has it, else from data.error.error_code.

const { AsyncLocalStorage } = require("node:async_hooks");
const tencentcloud = require("tencentcloud-sdk-nodejs");
const TencentCloudSDKHttpException =
  require("tencentcloud-sdk-nodejs/tencentcloud/common/exception/tencent_cloud_sdk_exception").default;
const { BasicCredentials } = require("@huaweicloud/huaweicloud-sdk-core");
const { ClientBuilder } = require("@huaweicloud/huaweicloud-sdk-core/ClientBuilder");
const { ServiceResponseException } = require("@huaweicloud/huaweicloud-sdk-core/exception/ServiceResponseException");
const { ClientRequestException } = require("@huaweicloud/huaweicloud-sdk-core/exception/ClientRequestException");
const fixtures = require("./fixtures");

const REQUEST_TIMEOUT_S = 15;

// ---------------------------------------------------------------- Tencent

/**
 * @param {{host:string, port:number, scheme?:string}} server
 * @param {object} [o]
 * @param {"POST"|"GET"} [o.reqMethod]
 * @param {import("node:https").Agent} [o.agent] for https: whom to trust
 * @param {number} [o.reqTimeout] seconds the SDK waits for an answer
 */
function tencentClient(server, o = {}) {
  const t = fixtures.tencent;
  const httpProfile = {
    endpoint: `${server.host}:${server.port}`,
    protocol: `${server.scheme || "http"}://`,
    reqTimeout: o.reqTimeout || REQUEST_TIMEOUT_S,
  };
  if (o.reqMethod) httpProfile.reqMethod = o.reqMethod;
  if (o.agent) httpProfile.agent = o.agent;
  return new tencentcloud.kms.v20190118.Client({
    credential: {
      secretId: o.secretId || t.secretId,
      secretKey: o.secretKey || t.secretKey,
    },
    region: o.region || t.region,
    profile: { httpProfile },
  });
}

// ---------------------------------------------------------------- Huawei

const callSlot = new AsyncLocalStorage();

class HuaweiKmsClient {
  /** Same entry point as the generated KmsClient.newBuilder(). */
  static newBuilder() {
    return new ClientBuilder(newHuaweiKmsClient);
  }

  constructor(hcClient) {
    this.hcClient = hcClient;
    const httpClient = hcClient && hcClient.httpClient;
    if (httpClient) {
      // DefaultHttpClient logs every error response to stdout; keep the test
      // output readable unless asked for (KMSEMU_SDK_LOG=1).
      if (!process.env.KMSEMU_SDK_LOG && httpClient._logger) {
        const quiet = () => {};
        httpClient._logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
      }
      // Remember the raw error object of the current call (see header).
      const send = httpClient.sendRequest.bind(httpClient);
      httpClient.sendRequest = async (req) => {
        try {
          return await send(req);
        } catch (raw) {
          const slot = callSlot.getStore();
          if (slot) slot.raw = raw;
          throw raw;
        }
      };
    }
  }

  /** ClientBuilder calls init() without a client to find credential classes. */
  getPath() {
    return __dirname;
  }

  /**
   * Any request the generated client makes: url may hold {project_id} and
   * the names of pathParams; GET and DELETE without a body send none.
   */
  async request(method, url, { data, pathParams = {}, queryParams = {} } = {}) {
    const options = {
      method,
      url,
      contentType: "application/json;charset=UTF-8",
      queryParams,
      pathParams,
      headers: { "Content-Type": "application/json;charset=UTF-8" },
      data,
    };
    options.responseHeaders = [""];
    const slot = {};
    try {
      return await callSlot.run(slot, () => this.hcClient.sendRequest(options));
    } catch (err) {
      if (slot.raw && err && typeof err === "object") {
        Object.defineProperty(err, "response", {
          value: { status: slot.raw.status, headers: slot.raw.headers, data: slot.raw.data },
          enumerable: false,
          configurable: true,
        });
      }
      throw err;
    }
  }

  /**
   * What every generated method does: the request model's `body` is the
   * JSON body, its fields named in the route's path are path parameters,
   * the others query parameters (names as on the wire).
   */
  send(op, request = {}) {
    const [method, url] = HUAWEI_ROUTES[op];
    const { body, ...fields } = request;
    const pathParams = {};
    const queryParams = {};
    for (const [name, value] of Object.entries(fields)) {
      (url.includes(`{${name}}`) ? pathParams : queryParams)[name] = value;
    }
    for (const [, name] of url.matchAll(/\{(\w+)\}/g)) {
      if (name !== "project_id" && pathParams[name] === undefined) {
        throw new Error(`${op}: the request has no ${name} for the path ${url}`);
      }
    }
    return this.request(method, url, { data: body, pathParams, queryParams });
  }
}

// Every operation kmsemu serves, as services/kms/v2/KmsClient.ts routes it,
// from the shared cases (spec/sdk/cases.json): lowerCamel method name ->
// [HTTP method, path]. Each becomes HuaweiKmsClient.<name>(request).
const HUAWEI_ROUTES = Object.fromEntries(Object.entries(require("./cases.json").huawei_routes)
  .map(([op, route]) => [op[0].toLowerCase() + op.slice(1), route]));

for (const op of Object.keys(HUAWEI_ROUTES)) {
  HuaweiKmsClient.prototype[op] = function (request) {
    return this.send(op, request);
  };
}

function newHuaweiKmsClient(hcClient) {
  return new HuaweiKmsClient(hcClient);
}

/**
 * @param {{url:string}} server
 * @param {object} [o] ak / sk / projectId overrides; httpsAgent for https
 */
function huaweiClient(server, o = {}) {
  const h = fixtures.huawei;
  const credentials = new BasicCredentials()
    .withAk(o.ak || h.ak)
    .withSk(o.sk || h.sk)
    .withProjectId(o.projectId || h.projectId);
  return HuaweiKmsClient.newBuilder()
    .withCredential(credentials)
    .withEndpoint(server.url)
    .withOptions({
      axiosRequestConfig: {
        timeout: REQUEST_TIMEOUT_S * 1000,
        ...(o.httpsAgent ? { httpsAgent: o.httpsAgent } : {}),
      },
    })
    .build();
}

/**
 * What a Huawei error tells the test: the HTTP status and request id the core
 * reports, and the error code/message whether the core unwrapped them (flat
 * gateway body) or not (nested KMS body).
 */
function huaweiError(err) {
  const data = err && err.response ? err.response.data : undefined;
  const nested = data && typeof data === "object" && data.error && typeof data.error === "object" ? data.error : {};
  return {
    status: err.httpStatusCode,
    code: err.errorCode !== undefined ? err.errorCode : nested.error_code,
    message: err.errorCode !== undefined ? err.errorMsg : nested.error_msg,
    requestId: err.requestId,
    coreErrorCode: err.errorCode,
    body: data,
  };
}

module.exports = {
  tencentClient,
  huaweiClient,
  huaweiError,
  HuaweiKmsClient,
  HUAWEI_ROUTES,
  TencentCloudSDKHttpException,
  ClientRequestException,
  ServiceResponseException,
};
