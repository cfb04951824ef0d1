// Lambda runs Node 22; the SDK's notice about Node 20 on this machine is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
