export * from "./alertTopic";
export * from "./auditTrail";
export * from "./bucketCreationAlarm";
export * from "./contributions";
export * from "./downloadThresholdAlert";
export * from "./policy";
export * from "./secureCallbackFunction";
export * from "./validation";
