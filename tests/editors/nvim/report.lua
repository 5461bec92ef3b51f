-- What the Neovim tests print: the PASS/FAIL lines tests/editors/run.sh
-- counts, and the tally at the end. Loaded with dofile by test.lua,
-- test_old.lua (Neovim 0.7) and test_install.lua.
return function(suite)
  local r = { passed = 0, failed = 0 }
  function r.say(s)
    io.stdout:write(s .. '\n')
    io.stdout:flush()
  end
  function r.check(name, ok, detail)
    if ok then
      r.passed = r.passed + 1
      r.say('PASS ' .. suite .. ': ' .. name)
    else
      r.failed = r.failed + 1
      r.say('FAIL ' .. suite .. ': ' .. name .. (detail and (' — ' .. detail) or ''))
    end
  end
  function r.short(s, n)
    s = tostring(s):gsub('%s+', ' ')
    n = n or 300
    return #s > n and (s:sub(1, n) .. '…') or s
  end
  -- Prints the tally; true when nothing failed.
  function r.summary()
    r.say(string.format('%s: %d passed, %d failed', suite, r.passed, r.failed))
    return r.failed == 0
  end
  return r
end
