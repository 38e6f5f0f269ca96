// A trimmed piece of Emscripten glue with all three hazards (shape of 3.1.6 -O0 output).
var HEAP8, HEAP16, HEAP32, HEAPU8;

function bindUserSpace({ memory: { HEAP16, HEAP32 } }) {
  return {
    updateFlockStruct(ptr) {
      HEAP16[ptr >> 1] = 2;
      HEAP32[(ptr + 4) >> 2] = 0;
    },
  };
}

var memory = { HEAP8, HEAP16, HEAP32: HEAP32, HEAPU8: HEAPU8 };
var userSpace = bindUserSpace({ memory });

var Asyncify = {State:{Normal:0,Unwinding:1,Rewinding:2,Disabled:3},state:0,StackSize:4096,currData:null,allocateData:function() {
    var ptr = _malloc(12 + Asyncify.StackSize);
    Asyncify.setDataHeader(ptr, ptr + 12, Asyncify.StackSize);
    Asyncify.setDataRewindFunc(ptr);
    return ptr;
  },setDataHeader:function(ptr, stack, stackSize) {
    HEAP32[((ptr)>>2)] = stack;
    HEAP32[(((ptr)+(4))>>2)] = stack + stackSize;
  },setDataRewindFunc:function(ptr) {
    HEAP32[(((ptr)+(8))>>2)] = 0;
  },handleSleep:function(startAsync) {
    if (Asyncify.state === Asyncify.State.Normal) {
      var reachedCallback = false;
      startAsync(() => {});
      if (!reachedCallback) {
        Asyncify.state = Asyncify.State.Unwinding;
        Asyncify.currData = Asyncify.allocateData();
        _asyncify_start_unwind(Asyncify.currData);
      }
    } else if (Asyncify.state === Asyncify.State.Rewinding) {
      Asyncify.state = Asyncify.State.Normal;
      _asyncify_stop_rewind();
      _free(Asyncify.currData);
      Asyncify.currData = null;
    } else {
      abort('invalid state: ' + Asyncify.state);
    }
  }};
