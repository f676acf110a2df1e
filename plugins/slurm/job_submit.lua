--[[
wattprint's submit-side budget check, for slurmctld's job_submit/lua plugin.

Install: copy this file to job_submit.lua beside slurm.conf on the slurmctld
host, set the three variables below, add JobSubmitPlugins=lua to slurm.conf
and restart slurmctld.

Why this hook is the reliable one:
  - slurmctld runs slurm_job_submit for every job submission: sbatch, salloc,
    and srun when it creates its own allocation. Nothing runs on the user's
    side, so pointing SLURM_CONF at a copy with an empty plugstack.conf (which
    skips every SPANK plugin in sbatch and srun) does not bypass it.
  - It sees the account Slurm will charge: the one asked for, or else the
    user's default account.
  - A refused job is never queued, and the user is told why at once.
The SPANK plugin checks again in slurmstepd before each step starts, for the
budget spent while a job waited in the queue.

slurmctld waits for this function while holding its job locks, so the check
is given 2 seconds; a collector that does not answer in time lets the job in.
]]

-- The wattprint binary, the collector, and the file holding the collector
-- token (its first line). Only the first three need setting.
local WATTPRINT = "/usr/local/bin/wattprint"
local COLLECTOR = "https://wattprint.example.org"
local TOKEN_FILE = "/etc/wattprint/collector.token"
local TIMEOUT_SECONDS = 2
-- How long an answer of the collector is reused for the same account: a
-- burst of submissions asks once; a budget changed since shows after this.
local CACHE_SECONDS = 30

-- One word for sh: single quotes, with each ' written as '\''.
local function sh_quote(s)
    return "'" .. string.gsub(s, "'", "'\\''") .. "'"
end

-- The same account names the SPANK plugin accepts.
local function plain_account(account)
    return string.match(account, "^[A-Za-z0-9_.-]+$") ~= nil
        and string.sub(account, 1, 1) ~= "-"
end

-- Runs `wattprint budget check`; returns its exit status (nil if unknown) and
-- the first line it printed. The status is echoed after the output, since
-- Lua 5.1's io.popen cannot report it.
local function budget_check(account)
    local command = "WATTPRINT_COLLECTOR_TOKEN=\"$(head -n 1 " .. sh_quote(TOKEN_FILE)
        .. " 2>/dev/null | tr -d '[:space:]')\" timeout " .. TIMEOUT_SECONDS .. " "
        .. sh_quote(WATTPRINT) .. " budget check " .. sh_quote(account)
        .. " --collector " .. sh_quote(COLLECTOR) .. " --policy allow --cache-ttl " .. CACHE_SECONDS
        .. " 2>/dev/null"
        .. " </dev/null; echo \"wattprint-status=$?\""
    local pipe = io.popen(command, "r")
    if pipe == nil then
        return nil, ""
    end
    local output = pipe:read("*a") or ""
    pipe:close()
    local status = tonumber(string.match(output, "wattprint%-status=(%d+)%s*$"))
    local line = string.match(output, "^([^\n]*)\n") or ""
    if string.match(line, "^wattprint%-status=") then
        line = ""
    end
    line = string.gsub(string.gsub(line, "^%s+", ""), "%s+$", "")
    return status, line
end

function slurm_job_submit(job_desc, part_list, submit_uid)
    local account = job_desc.account or job_desc.default_account
    if account == nil or account == "" then
        return slurm.SUCCESS
    end
    if not plain_account(account) then
        slurm.log_info("wattprint: account name %s is not plain; budget not checked", account)
        return slurm.SUCCESS
    end
    local status, line = budget_check(account)
    if status == 1 then
        if line == "" then
            line = "wattprint: account " .. account .. " is over its budget"
        end
        slurm.log_user("%s", line)
        return slurm.ERROR
    end
    if status == 0 then
        if line ~= "" then
            slurm.log_user("%s", line)
        end
        return slurm.SUCCESS
    end
    -- No answer (timeout, collector down, wattprint missing): policy allow.
    slurm.log_info("wattprint: budget check of account %s gave no usable answer (exit status %s); job allowed",
        account, tostring(status))
    return slurm.SUCCESS
end

function slurm_job_modify(job_desc, job_rec, part_list, modify_uid)
    return slurm.SUCCESS
end

slurm.log_info("wattprint: job_submit.lua loaded")
return slurm.SUCCESS
